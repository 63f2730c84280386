package control

import (
	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/store"
)

// History entries are kept as the API gives them; these drop the key.

func apiEntryPtr(e *store.Entry) *api.Entry {
	if e == nil {
		return nil
	}
	out := e.Entry
	return &out
}

func apiEntries(es []store.Entry) []api.Entry {
	out := make([]api.Entry, len(es))
	for i, e := range es {
		out[i] = e.Entry
	}
	return out
}
