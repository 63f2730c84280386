package store

import "fmt"

// Empty is a Store that holds nothing and takes nothing: the state of a
// database file that does not exist yet, for reading what a first start
// would serve without creating the file.
func Empty(path string) Store { return emptyStore{path} }

type emptyStore struct{ path string }

func (e emptyStore) Read(fn func(View) error) error { return fn(emptyView{}) }

func (e emptyStore) Apply(*Batch) (Rev, error) {
	return 0, fmt.Errorf("%s does not exist yet: nothing can be written to it here", e.path)
}

func (emptyStore) Close() error { return nil }

type emptyView struct{}

func (emptyView) App(name string) (App, error) {
	return App{}, fmt.Errorf("app %q: %w", name, ErrNotFound)
}
func (emptyView) Apps() ([]App, error) { return nil, nil }
func (emptyView) Zone(origin string) (Zone, error) {
	return Zone{}, fmt.Errorf("zone %q: %w", origin, ErrNotFound)
}
func (emptyView) Zones() ([]Zone, error)                   { return nil, nil }
func (emptyView) Drains() (map[string]DrainState, error)   { return map[string]DrainState{}, nil }
func (emptyView) Aliases() (map[string]AliasRecord, error) { return map[string]AliasRecord{}, nil }
func (emptyView) History(string, int) ([]Entry, error)     { return nil, nil }
func (emptyView) Entry(app string, seq uint64) (Entry, error) {
	return Entry{}, fmt.Errorf("history entry %d %w: app %q has no history yet", seq, ErrNotFound, app)
}
func (emptyView) LastEntry(string) (Entry, bool, error) { return Entry{}, false, nil }
func (emptyView) Journal(zone string, _ uint32) ([]Delta, bool, error) {
	return nil, false, fmt.Errorf("zone %q: %w", zone, ErrNotFound)
}
