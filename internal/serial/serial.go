// Package serial orders SOA serial numbers as RFC 1982 does. Every
// package that compares serials (the change pipeline, zone transfers,
// the probes, the NOTIFY sender) uses this one comparison.
package serial

// Less reports whether a < b in RFC 1982 serial number arithmetic. When
// a and b are exactly 2^31 apart the order is undefined and it reports
// false both ways.
func Less(a, b uint32) bool {
	d := b - a // wraps modulo 2^32
	return d != 0 && d < 1<<31
}
