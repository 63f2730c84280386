package clock

import (
	"testing"
	"time"
)

func TestFakeFiresDueTimers(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	soon, late := f.NewTimer(time.Second), f.NewTimer(time.Minute)
	f.Advance(2 * time.Second)
	select {
	case at := <-soon.C():
		if !at.Equal(start.Add(2 * time.Second)) {
			t.Errorf("fired at %v, want %v", at, start.Add(2*time.Second))
		}
	default:
		t.Fatal("the 1s timer did not fire after 2s")
	}
	select {
	case <-late.C():
		t.Fatal("the 1m timer fired after 2s")
	default:
	}
	if !late.Stop() || late.Stop() {
		t.Error("Stop: want true once, then false")
	}
	if n := f.Waiters(); n != 0 {
		t.Errorf("waiters after Stop: got %d, want 0", n)
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan bool)
	go func() { done <- Sleep(f, time.Hour, nil) }()
	if !f.BlockUntil(1, 5*time.Second) {
		t.Fatal("the sleeper never set its timer")
	}
	f.Advance(time.Hour)
	if !<-done {
		t.Error("Sleep: got false, want true after the hour passed")
	}
}

func TestSleepStopsWhenDone(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	stop := make(chan struct{})
	close(stop)
	if Sleep(f, time.Hour, stop) {
		t.Error("Sleep: got true, want false when done is closed")
	}
}
