//go:build !linux

package dnsserver

import (
	"net"
	"syscall"
)

// reusePort is nil here: the readers of an address share one socket.
var reusePort func(network, address string, c syscall.RawConn) error

func (s *Server) readUDP(pc net.PacketConn, counts *shard) { s.readUDPSimple(pc, counts) }
