package dnsserver

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is how many packets one recvmmsg or sendmmsg moves at most.
const udpBatch = 32

// oobWords sizes a control message buffer (in 8-byte words): room for one
// IP_PKTINFO or IPV6_PKTINFO message and some to spare.
const oobWords = 8

// mmsghdr is struct mmsghdr of <sys/socket.h>; Go lays it out as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// udpBatcher reads and answers packets on one UDP socket in batches, with
// recvmmsg and sendmmsg. All its buffers are its own and reused.
type udpBatcher struct {
	rc syscall.RawConn

	recv    [udpBatch]mmsghdr
	recvIov [udpBatch]unix.Iovec
	names   [udpBatch]unix.RawSockaddrInet6 // big enough for IPv4 too
	bufs    [udpBatch][udpMaxQuery]byte

	send    [udpBatch]mmsghdr
	sendIov [udpBatch]unix.Iovec
	outs    [udpBatch][]byte

	// On a socket bound to the unspecified address, the destination of
	// each query comes with it and becomes the source of its response:
	// the client expects the answer from the address it asked.
	pktinfo bool
	recvOOB [udpBatch][oobWords]uint64 // uint64 keeps cmsghdr aligned
	sendOOB [udpBatch][oobWords]uint64

	// Arguments and results of the system calls, kept here so the
	// callbacks handed to RawConn are made once.
	n, from, to int
	errno       syscall.Errno
	recvFn      func(fd uintptr) bool
	sendFn      func(fd uintptr) bool

	// client tells the transfer and TSIG paths the source of packet cur.
	client *client
	cur    int
	counts *shard // this reader's counters; nil when not counting
}

// readUDP serves pc in batches, counting in counts; it falls back to one
// packet per call when pc gives no raw access.
func (s *Server) readUDP(pc net.PacketConn, counts *shard) {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		s.readUDPSimple(pc, counts)
		return
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		s.readUDPSimple(pc, counts)
		return
	}
	b := &udpBatcher{rc: rc, counts: counts}
	if ip := uc.LocalAddr().(*net.UDPAddr).IP; ip == nil || ip.IsUnspecified() {
		b.pktinfo = enablePktinfo(rc)
	}
	b.init()
	for {
		n, err := b.read()
		if err != nil {
			if s.shuttingDown() || isClosed(err) {
				return
			}
			time.Sleep(time.Millisecond) // an unexpected error must not spin
			continue
		}
		st := s.state.Load()
		m := 0
		for i := range n {
			req := b.bufs[i][:b.recv[i].len]
			b.cur = i
			resp := s.respond(st, req, b.outs[i][:0], b.client)
			if len(resp) == 0 {
				continue
			}
			if cap(resp) > cap(b.outs[i]) && cap(resp) <= maxTCPSize+1 {
				b.outs[i] = resp[:0] // keep the larger buffer the packer made
			}
			b.sendIov[m].Base = &resp[0]
			b.sendIov[m].SetLen(len(resp))
			b.send[m].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
			b.send[m].hdr.Namelen = b.recv[i].hdr.Namelen
			if b.pktinfo {
				b.setSource(m, i)
			}
			m++
		}
		if err := b.write(m); err != nil && (s.shuttingDown() || isClosed(err)) {
			return
		}
		for i := range n {
			b.recv[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
			b.recv[i].hdr.Flags = 0
			if b.pktinfo {
				b.recv[i].hdr.SetControllen(oobWords * 8)
			}
			b.sendIov[i].Base = nil // let the responses be collected
		}
	}
}

// source is the address packet cur came from.
func (b *udpBatcher) source() netip.Addr {
	sa := &b.names[b.cur]
	switch sa.Family {
	case unix.AF_INET:
		return netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(sa)).Addr)
	case unix.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}

func (b *udpBatcher) init() {
	b.client = &client{udp: true, addr: b.source, counts: b.counts}
	for i := range udpBatch {
		b.recvIov[i].Base = &b.bufs[i][0]
		b.recvIov[i].SetLen(udpMaxQuery)
		b.recv[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.recv[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
		b.recv[i].hdr.Iov = &b.recvIov[i]
		b.recv[i].hdr.SetIovlen(1)
		b.send[i].hdr.Iov = &b.sendIov[i]
		b.send[i].hdr.SetIovlen(1)
		if b.pktinfo {
			b.recv[i].hdr.Control = (*byte)(unsafe.Pointer(&b.recvOOB[i][0]))
			b.recv[i].hdr.SetControllen(oobWords * 8)
		}
		b.outs[i] = make([]byte, 0, 2048)
	}
	// The socket is non-blocking, so neither call ever waits: they are
	// made as raw system calls, without telling the scheduler. Through
	// Syscall6, every call long enough to be noticed had the monitor
	// thread hand the reader's P to another thread and the reader wait
	// to get one back, a few context switches per batch on a busy core.
	b.recvFn = func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.recv[0])), udpBatch, 0, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until readable
			}
			b.n, b.errno = int(r), e
			return true
		}
	}
	b.sendFn = func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.send[b.from])), uintptr(b.to-b.from), 0, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until writable
			}
			b.n, b.errno = int(r), e
			return true
		}
	}
}

// read waits for packets and returns how many arrived.
func (b *udpBatcher) read() (int, error) {
	if err := b.rc.Read(b.recvFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, b.errno
	}
	return b.n, nil
}

// write sends the first m prepared responses. A response the kernel
// refuses is skipped, so that one bad address cannot hold up the rest.
func (b *udpBatcher) write(m int) error {
	b.from, b.to = 0, m
	for b.from < b.to {
		if err := b.rc.Write(b.sendFn); err != nil {
			return err
		}
		if b.errno != 0 {
			b.from++
			continue
		}
		b.from += b.n
	}
	return nil
}

// reusePort is a net.ListenConfig.Control that lets other sockets of the
// same user bind the socket's address (SO_REUSEPORT).
var reusePort = func(network, address string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}

// enablePktinfo asks the kernel for each packet's destination address.
func enablePktinfo(rc syscall.RawConn) bool {
	ok := false
	rc.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			return
		}
		switch domain {
		case unix.AF_INET:
			ok = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1) == nil
		case unix.AF_INET6:
			ok = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1) == nil
			// IPv4 packets on a dual-stack socket report IP_PKTINFO.
			unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
	})
	return ok
}

// setSource makes the response in send slot m leave from the address the
// query in receive slot i was sent to.
func (b *udpBatcher) setSource(m, i int) {
	b.send[m].hdr.Control = nil
	b.send[m].hdr.SetControllen(0)
	recv := unsafe.Slice((*byte)(unsafe.Pointer(&b.recvOOB[i][0])), oobWords*8)
	recv = recv[:min(int(b.recv[i].hdr.Controllen), len(recv))]
	out := unsafe.Slice((*byte)(unsafe.Pointer(&b.sendOOB[m][0])), oobWords*8)
	for len(recv) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&recv[0]))
		if h.Len < unix.SizeofCmsghdr || uint64(h.Len) > uint64(len(recv)) {
			return
		}
		data := recv[unix.CmsgLen(0):h.Len]
		var n int
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			in := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			oh := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			oh.Level, oh.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			oh.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
			o := (*unix.Inet4Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
			*o = unix.Inet4Pktinfo{Spec_dst: in.Addr} // any interface the route picks
			n = unix.CmsgSpace(unix.SizeofInet4Pktinfo)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			in := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			oh := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			oh.Level, oh.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
			oh.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
			o := (*unix.Inet6Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
			*o = unix.Inet6Pktinfo{Addr: in.Addr}
			if in.Addr[0] == 0xfe && in.Addr[1]&0xc0 == 0x80 {
				o.Ifindex = in.Ifindex // a link-local address needs its interface
			}
			n = unix.CmsgSpace(unix.SizeofInet6Pktinfo)
		default:
			next := unix.CmsgSpace(int(h.Len) - unix.CmsgLen(0))
			if next > len(recv) {
				return
			}
			recv = recv[next:]
			continue
		}
		b.send[m].hdr.Control = &out[0]
		b.send[m].hdr.SetControllen(n)
		return
	}
}
