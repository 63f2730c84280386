package dnsserver

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is how many packets one recvmmsg or sendmmsg moves at most.
const udpBatch = 32

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

	// Arguments and results of the system calls, kept here so the
	// callbacks handed to RawConn are made once.
	n, from, to int
	errno       syscall.Errno
	recvFn      func(fd uintptr) bool
	sendFn      func(fd uintptr) bool
}

// readUDP serves pc in batches; it falls back to one packet per call when
// pc gives no raw access.
func (s *Server) readUDP(pc net.PacketConn) {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		s.readUDPSimple(pc)
		return
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		s.readUDPSimple(pc)
		return
	}
	b := &udpBatcher{rc: rc}
	b.init()
	for {
		n, err := b.read()
		if err != nil {
			if s.shuttingDown() || isClosed(err) {
				return
			}
			continue
		}
		st := s.state.Load()
		m := 0
		for i := range n {
			req := b.bufs[i][:b.recv[i].len]
			resp := st.respond(req, b.outs[i][:0], true)
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
			m++
		}
		if err := b.write(m); err != nil && (s.shuttingDown() || isClosed(err)) {
			return
		}
		for i := range n {
			b.recv[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
			b.recv[i].hdr.Flags = 0
			b.sendIov[i].Base = nil // let the responses be collected
		}
	}
}

func (b *udpBatcher) init() {
	for i := range udpBatch {
		b.recvIov[i].Base = &b.bufs[i][0]
		b.recvIov[i].SetLen(udpMaxQuery)
		b.recv[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.recv[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
		b.recv[i].hdr.Iov = &b.recvIov[i]
		b.recv[i].hdr.SetIovlen(1)
		b.send[i].hdr.Iov = &b.sendIov[i]
		b.send[i].hdr.SetIovlen(1)
		b.outs[i] = make([]byte, 0, 2048)
	}
	b.recvFn = func(fd uintptr) bool {
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.recv[0])), udpBatch, 0, 0, 0)
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
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.send[b.from])), uintptr(b.to-b.from), 0, 0, 0)
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
