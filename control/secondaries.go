package control

import (
	"context"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/probe"
)

// secondaryWatchFor is how long after a change the server watches each
// secondary for the new serial, for the event streams and /metrics.
const secondaryWatchFor = 30 * time.Second

// secondaryWatch follows each secondary's served serial after a change,
// so that a dashboard shows it catching up and /metrics its lag, without
// anyone asking it over and over.
type secondaryWatch struct {
	cfg *config.Config
	bus *eventBus
	ctx context.Context

	mu   sync.Mutex
	seen map[[2]string]api.SecondaryResult // by zone and address: the last serial seen served
	wg   sync.WaitGroup
}

func newSecondaryWatch(ctx context.Context, cfg *config.Config, bus *eventBus) *secondaryWatch {
	return &secondaryWatch{cfg: cfg, bus: bus, ctx: ctx, seen: map[[2]string]api.SecondaryResult{}}
}

// changed watches the secondaries of zone until they serve serial.
func (w *secondaryWatch) changed(zone string, serial uint32) {
	zc, ok := w.cfg.Zone(zone)
	if !ok {
		return
	}
	for _, sec := range zc.Secondaries {
		w.wg.Go(func() {
			res := probe.WaitSerial(w.ctx, []string{sec.Address}, zone, serial, secondaryWatchFor)[0]
			if w.ctx.Err() != nil {
				return
			}
			w.mu.Lock()
			if res.Serial != 0 {
				w.seen[[2]string{zone, sec.Address}] = res
			}
			w.mu.Unlock()
			w.bus.publish(api.Event{Type: api.EventSecondary, Zone: zone, Serial: serial, Secondary: &res})
		})
	}
}

// last is the last result seen of each secondary of zone.
func (w *secondaryWatch) last(zone, addr string) (api.SecondaryResult, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	res, ok := w.seen[[2]string{zone, addr}]
	return res, ok
}

func (w *secondaryWatch) wait() { w.wg.Wait() }
