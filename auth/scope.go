package auth

import "fmt"

// Scope is what a token may do; each scope includes the ones below it.
type Scope int

const (
	// ScopeRead sees state: apps, history, events, metrics.
	ScopeRead Scope = iota + 1
	// ScopeSwap adds swap, set and rollback.
	ScopeSwap
	// ScopeAdmin adds reload, backup and token management.
	ScopeAdmin
)

var scopeNames = map[Scope]string{ScopeRead: "read", ScopeSwap: "swap", ScopeAdmin: "admin"}

func (s Scope) String() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("scope(%d)", int(s))
}

// ParseScope reads "read", "swap" or "admin".
func ParseScope(text string) (Scope, error) {
	for s, n := range scopeNames {
		if n == text {
			return s, nil
		}
	}
	return 0, fmt.Errorf("scope %q: want read, swap or admin", text)
}

// Allows reports whether a token of scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool { return s >= need }

func (s Scope) MarshalText() ([]byte, error) {
	if _, ok := scopeNames[s]; !ok {
		return nil, fmt.Errorf("unknown scope %d", int(s))
	}
	return []byte(s.String()), nil
}

func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
