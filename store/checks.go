package store

import "time"

// CheckResult is the outcome of one health check run around a change.
type CheckResult struct {
	Name     string        `json:"name"` // as configured, e.g. "http /healthz"
	Kind     string        `json:"kind"` // "http", "https" or "command"
	When     string        `json:"when"` // "before" or "after"
	Pass     bool          `json:"pass"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	// Detail says what was seen: "status 500", "timeout after 5s", "exit
	// status 1". Status and Body are filled for HTTP checks, Output for
	// commands; each body or output is cut to its first 200 bytes.
	Detail   string `json:"detail"`
	Target   string `json:"target,omitempty"` // the address asked
	Status   int    `json:"status,omitempty"`
	Body     string `json:"body,omitempty"`
	Output   string `json:"output,omitempty"`
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}
