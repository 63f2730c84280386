package serial

import "testing"

func TestLess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true},
		{2, 1, false},
		{5, 5, false},
		{4294967295, 0, true},
		{0xFFFFFFF0, 7, true}, // across the wrap
		{7, 0xFFFFFFF0, false},
		{0, 1 << 31, false}, // exactly 2^31 apart: undefined, false both ways
		{1 << 31, 0, false},
		{7, 7 + 1<<31, false},
		{7 + 1<<31, 7, false},
	}
	for _, tt := range tests {
		if got := Less(tt.a, tt.b); got != tt.want {
			t.Errorf("Less(%d, %d): got %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
