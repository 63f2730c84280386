//go:build !linux

package dnsserver

import "net"

func (s *Server) readUDP(pc net.PacketConn, counts *shard) { s.readUDPSimple(pc, counts) }
