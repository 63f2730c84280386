package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotdns/slotdns/control"
	"github.com/slotdns/slotdns/store"
)

// printChecks writes one line per check result, with the body or output
// excerpt of a failure.
func printChecks(w io.Writer, indent string, results []store.CheckResult) {
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

// refusedChecks returns the results of a swap refused by its checks, from
// a server's reply or a local run.
func refusedChecks(err error) ([]store.CheckResult, bool) {
	var apiErr *control.APIError
	if errors.As(err, &apiErr) && errors.Is(err, control.ErrCheckFailed) {
		return apiErr.Checks, true
	}
	var checkErr *control.CheckError
	if errors.As(err, &checkErr) {
		return checkErr.Results, true
	}
	return nil, false
}
