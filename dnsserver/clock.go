package dnsserver

import (
	"sync/atomic"
	"time"
)

// coarseClock is the time in whole seconds for what a response needs it
// for (the rate limit's windows, the timestamps of cookies), read without
// asking the system: on some virtual machines a clock read costs more
// than the rest of a cached answer. It is at most coarseTick behind.
type coarseClock struct {
	sec  atomic.Int64
	stop chan struct{}
}

const coarseTick = 100 * time.Millisecond

func startCoarseClock() *coarseClock {
	c := &coarseClock{stop: make(chan struct{})}
	c.sec.Store(time.Now().Unix())
	go func() {
		t := time.NewTicker(coarseTick)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				c.sec.Store(now.Unix())
			}
		}
	}()
	return c
}

// now is the time, to the second.
func (c *coarseClock) now() time.Time { return time.Unix(c.sec.Load(), 0) }

func (c *coarseClock) close() { close(c.stop) }
