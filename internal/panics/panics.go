// Package panics says where a recovered panic happened, in one line: a
// server logs the bug and goes on, and its log carries no Go stack trace.
package panics

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// Site gives the function, file and line that panicked, as
// "pkg.Func (file.go:12)". Call it from the deferred function that
// recovered.
func Site() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	afterPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic" || strings.HasPrefix(f.Function, "runtime.panic") || strings.HasPrefix(f.Function, "runtime.sigpanic"):
			afterPanic = true
		case afterPanic && !strings.HasPrefix(f.Function, "runtime."):
			return fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}
