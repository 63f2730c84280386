// Package source groups client addresses into the sources that limits
// count by: an IPv4 address, or the IPv6 prefix one host usually owns.
package source

import "net/netip"

// Prefix is addr's prefix of v4 bits (an IPv4 address) or v6 bits (IPv6);
// an IPv4 address mapped into IPv6 counts as IPv4.
func Prefix(addr netip.Addr, v4, v6 int) netip.Prefix {
	addr = addr.Unmap()
	bits := v4
	if addr.Is6() {
		bits = v6
	}
	p, _ := addr.Prefix(bits)
	return p
}

// Host is the source of one host: an IPv4 address, an IPv6 /64.
func Host(addr netip.Addr) netip.Prefix { return Prefix(addr, 32, 64) }
