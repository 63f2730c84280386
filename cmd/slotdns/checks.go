package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
)

// printChecks writes one line per check result, with the body or output
// excerpt of a failure.
func printChecks(w io.Writer, indent string, results []api.CheckResult) {
	for _, r := range results {
		verdict := "pass"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%scheck %s (%s): %s, %s in %s", indent, r.Name, r.When, verdict, r.Detail, r.Duration.Round(time.Millisecond))
		if r.Target != "" {
			fmt.Fprintf(w, " from %s", r.Target)
		}
		if r.Attempts > 1 {
			fmt.Fprintf(w, " (attempt %d)", r.Attempts)
		}
		fmt.Fprintln(w)
		if r.Pass {
			continue
		}
		for _, text := range []string{r.Body, r.Output} {
			if text = strings.TrimSpace(text); text != "" {
				fmt.Fprintf(w, "%s  > %s\n", indent, strings.ReplaceAll(text, "\n", "\n"+indent+"  > "))
			}
		}
	}
}

// refusedChecks returns the results of a change refused by its checks.
func refusedChecks(err error) ([]api.CheckResult, bool) {
	e, ok := errors.AsType[*api.Error](err)
	if !ok || e.Kind != api.KindCheckFailed {
		return nil, false
	}
	return e.Checks, true
}
