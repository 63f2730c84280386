package zones

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string // String() of the target
		isHost bool
		err    string // part of the error; "" when none is wanted
	}{
		{in: "blue-abc.cloudapp.net.", want: "blue-abc.cloudapp.net.", isHost: true},
		{in: "Blue-ABC.CloudApp.net.", want: "blue-abc.cloudapp.net.", isHost: true},
		{in: "  e7e3f38589d04635a6d0d0aee22bd842.cloudapp.net. ", want: "e7e3f38589d04635a6d0d0aee22bd842.cloudapp.net.", isHost: true},
		{in: "_acme.example.com.", want: "_acme.example.com.", isHost: true},
		{in: "localhost.", want: "localhost.", isHost: true},
		{in: "blue", err: "a hostname needs its trailing dot"},
		{in: "blue.cloudapp.net", err: "a hostname needs its trailing dot"},
		{in: "192.0.2.1", want: "192.0.2.1"},
		{in: "192.0.2.2, 192.0.2.1 192.0.2.2", want: "192.0.2.1,192.0.2.2"},
		{in: "2001:DB8::1,192.0.2.1", want: "192.0.2.1,2001:db8::1"},
		{in: "::ffff:192.0.2.1", want: "192.0.2.1"},
		{in: "", err: "empty target"},
		{in: " , ", err: "empty target"},
		{in: "192.0.2", err: "last label is all digits"},
		{in: "192.0.2.300", err: "last label is all digits"},
		{in: "10.0.0.1.", err: "last label is all digits"},
		{in: "192.0.2.1, blue.cloudapp.net.", err: "is not an IP address"},
		{in: "a.example.com. b.example.com.", err: "one hostname or a list of IP addresses"},
		{in: ".", err: "root is not a hostname"},
		{in: "bad..name.", err: "not a valid hostname"},
		{in: "-dash.example.com.", err: "starts or ends with a hyphen"},
		{in: "sp*ce.example.com.", err: "not allowed"},
		{in: strings.Repeat("a", 64) + ".com.", err: "not a valid hostname"},
		{in: "fe80::1%eth0", err: "has a zone"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("ParseTarget(%q): got %v, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): got %v, want %s", tc.in, err, tc.want)
			}
			if got.String() != tc.want || got.IsHost() != tc.isHost {
				t.Errorf("ParseTarget(%q): got %s (host %v), want %s (host %v)", tc.in, got, got.IsHost(), tc.want, tc.isHost)
			}
			again, err := ParseTarget(got.String())
			if err != nil || again.String() != got.String() {
				t.Errorf("round trip of %s: got %v, %v", got, again, err)
			}
		})
	}
}

func ExampleParseTarget() {
	for _, s := range []string{"Blue-ABC.cloudapp.net.", "192.0.2.9, 2001:db8::1 192.0.2.1"} {
		t, err := ParseTarget(s)
		fmt.Println(t, t.IsHost(), err)
	}
	// Output:
	// blue-abc.cloudapp.net. true <nil>
	// 192.0.2.1,192.0.2.9,2001:db8::1 false <nil>
}
