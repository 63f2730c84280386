//go:build !linux

package dnsserver

import "net"

func (s *Server) readUDP(pc net.PacketConn) { s.readUDPSimple(pc) }
