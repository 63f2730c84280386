package control

import (
	"errors"
	"net/http"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
)

// The token routes manage the token file the server checks tokens
// against; slotdns token does the same on the file itself.

func (h *handler) whoami(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r.Context())
	h.result(w, api.Whoami{Name: id.name, Scope: scopeName(id.token.Scope), App: id.token.App, Actor: id.actor, Via: id.via}, nil)
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) {
	if !h.haveTokens(w) {
		return
	}
	tokens, err := h.tokens.Tokens()
	if err != nil {
		h.result(w, nil, err)
		return
	}
	h.result(w, TokenInfos(tokens), nil)
}

func (h *handler) addToken(w http.ResponseWriter, r *http.Request) {
	var req api.TokenRequest
	if !h.haveTokens(w) || !h.decode(w, r, &req) {
		return
	}
	scope, err := auth.ParseScope(req.Scope)
	if err != nil {
		h.result(w, nil, invalidf("%v", err))
		return
	}
	if req.App != "" {
		if _, err := h.c.App(r.Context(), req.App); err != nil {
			h.result(w, nil, err)
			return
		}
	}
	secret, t, err := h.tokens.File().Add(req.Name, scope, req.App, h.now())
	switch {
	case errors.Is(err, auth.ErrInvalid):
		h.result(w, nil, api.Errorf(api.KindInvalid, "%v", err))
		return
	case err != nil:
		h.result(w, nil, err)
		return
	}
	h.log.Info("Token added", "name", t.Name, "scope", t.Scope, "app", t.App, "by", identityOf(r.Context()).actor)
	h.result(w, api.NewToken{TokenInfo: TokenInfos([]auth.Token{t})[0], Token: secret}, nil)
}

func (h *handler) removeToken(w http.ResponseWriter, r *http.Request) {
	if !h.haveTokens(w) {
		return
	}
	name := r.PathValue("name")
	err := h.tokens.File().Remove(name)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		h.result(w, nil, api.Errorf(api.KindNotFound, "%v", err))
	case err != nil:
		h.result(w, nil, err)
	default:
		h.log.Info("Token removed", "name", name, "by", identityOf(r.Context()).actor)
		h.result(w, struct{}{}, nil)
	}
}

func (h *handler) haveTokens(w http.ResponseWriter) bool {
	if h.tokens == nil {
		h.result(w, nil, &api.Error{Kind: api.KindNoServer, Message: "tokens: no server runs; slotdns token works on the token file itself"})
		return false
	}
	return true
}

// TokenInfos gives tokens as the API shows them.
func TokenInfos(tokens []auth.Token) []api.TokenInfo {
	out := make([]api.TokenInfo, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, api.TokenInfo{Name: t.Name, Scope: t.Scope.String(), App: t.App, Created: t.Created})
	}
	return out
}
