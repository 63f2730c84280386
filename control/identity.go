package control

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/user"
	"strconv"
	"syscall"

	"github.com/slotdns/slotdns/auth"
)

// identity is who sent a control request, as the server established it:
// never a field the client sets.
type identity struct {
	name  string     // the token's name, or the user on the socket
	via   string     // "socket", "token" or "session"
	actor string     // as history records it
	token auth.Token // its scope and app; the socket's owner has every scope
	// valid reports whether the token or session still holds, for an
	// event stream that outlives the request's check; nil: always.
	valid func() bool
}

// stillValid reports whether the identity still holds: a removed token
// or an ended session ends the streams opened with it.
func (id identity) stillValid() bool { return id.valid == nil || id.valid() }

// principal is what idempotency keys are scoped by: two callers never
// share one.
func (id identity) principal() string { return id.via + ":" + id.name }

type identityKey struct{}

func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// identityOf is the identity of the request; the zero identity has no
// scope at all.
func identityOf(ctx context.Context) identity {
	id, _ := ctx.Value(identityKey{}).(identity)
	return id
}

// peerIdentity is the user at the other end of a unix socket connection,
// from SO_PEERCRED: the kernel's word, not the client's. The socket is
// 0600, so only its owner (or root) connects, with every scope.
func peerIdentity(c net.Conn) identity {
	id := identity{via: "socket", token: auth.Token{Scope: auth.ScopeAdmin}}
	cred, err := peerCred(c)
	if err != nil {
		id.name = "unknown"
		id.actor = "unknown user on the control socket"
		return id
	}
	id.name = "uid " + strconv.Itoa(int(cred.Uid))
	id.actor = id.name
	if u, err := user.LookupId(strconv.Itoa(int(cred.Uid))); err == nil {
		id.name = u.Username
		id.actor = fmt.Sprintf("%s (uid %d)", u.Username, cred.Uid)
	}
	id.token.Name = id.name
	return id
}

func peerCred(c net.Conn) (*syscall.Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}

// tokenIdentity is a caller of the remote API with token t from addr.
func tokenIdentity(t auth.Token, via string, addr netip.Addr) identity {
	actor := fmt.Sprintf("token %s from %s", t.Name, addr)
	if via == "session" {
		actor += " (dashboard)"
	}
	return identity{name: t.Name, via: via, actor: actor, token: t}
}
