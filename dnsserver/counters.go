package dnsserver

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"golang.org/x/sys/cpu"
)

// Counting (Config.Count) is done per reader: every UDP reader has a shard
// of counters of its own, which only it adds to, and the TCP connections
// share one (TCP is not the hot path). Counts sums the shards when asked.
// A query adds to its shard without a lock and without allocating, except
// the first time the shard counts a zone, slot or query type, when it
// makes the block that holds it. The adds are atomic so that Counts can
// read while readers count; since a shard's counters sit on cache lines
// of their own, no other core contends for them.

// block is one cache line of counters. A shard's blocks are its own, so
// two readers never write the same line.
type block [8]atomic.Uint64

// blocks is a growable array of blocks indexed by id. A block never moves
// once made, so no add can be lost while the array grows: only the table
// of pointers is copied, under mu. A block is made the first time its id
// is counted, so a shard holds the zones and types it has answered for,
// not every one a snapshot has.
type blocks struct {
	mu    sync.Mutex
	table atomic.Pointer[[]atomic.Pointer[block]]
}

// at gives the block of id, making it on first use.
func (bs *blocks) at(id int) *block {
	if t := bs.table.Load(); t != nil && id < len(*t) {
		if b := (*t)[id].Load(); b != nil {
			return b
		}
	}
	return bs.grow(id)
}

// grow makes the block of id, and a longer table when id is past its end.
func (bs *blocks) grow(id int) *block {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	t := bs.table.Load()
	if t == nil || id >= len(*t) {
		n := 8
		if t != nil {
			n = 2 * len(*t)
		}
		grown := make([]atomic.Pointer[block], max(n, id+1))
		if t != nil {
			for i := range *t {
				grown[i].Store((*t)[i].Load())
			}
		}
		bs.table.Store(&grown)
		t = &grown
	}
	b := (*t)[id].Load()
	if b == nil {
		b = new(block)
		(*t)[id].Store(b)
	}
	return b
}

// each calls f with every block made so far, by id.
func (bs *blocks) each(f func(id int, b *block)) {
	t := bs.table.Load()
	if t == nil {
		return
	}
	for id := range *t {
		if b := (*t)[id].Load(); b != nil {
			f(id, b)
		}
	}
}

// Where each counter of a shard is. A requests block is one zoneSlot
// (ids.go) and query type, its counters by rcode index. A zones block is
// one zone: truncated answers, then transfers by type and result. The
// other counters are in shard.other.
const (
	zoneTruncated = 0
	zoneTransfers = 1 // + 2*type + result

	otherDropped = 0 // then TSIG failures, at their tsigReason
)

// shard is the counters of one UDP reader, or of every TCP connection.
type shard struct {
	_        cpu.CacheLinePad
	protocol int
	requests blocks // by zoneSlot id * numQtypes + qtype index
	zones    blocks // by zone id
	other    block
	cookies  block // by cookieResults index
	_        cpu.CacheLinePad
}

// shards is every shard of a server: one per UDP reader, one for TCP.
// Its methods give nil on a nil shards (the server does not count).
type shards struct {
	mu  sync.Mutex
	udp []*shard
	tcp *shard
}

// newUDP gives a new UDP reader its shard.
func (ss *shards) newUDP() *shard {
	if ss == nil {
		return nil
	}
	sh := &shard{protocol: protoUDP}
	ss.mu.Lock()
	ss.udp = append(ss.udp, sh)
	ss.mu.Unlock()
	return sh
}

// forTCP gives the shard of the TCP connections.
func (ss *shards) forTCP() *shard {
	if ss == nil {
		return nil
	}
	return ss.tcp
}

// all gives every shard.
func (ss *shards) all() []*shard {
	if ss == nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append(append([]*shard(nil), ss.udp...), ss.tcp)
}

// tally is what one query counts as, filled in while it is answered;
// the zero tally is a query of no zone, no slot and another type.
type tally struct {
	zone     int32 // zone id (ids.go); 0: no zone served here
	pair     int32 // zoneSlot id: the zone, and the slot whose name was asked
	qtype    uint8 // index in qtypeNames
	transfer uint8 // 0, or zoneTransfers + 2*type + result
	tsig     uint8 // 0, or why the TSIG failed (tsigReason)
	cookie   uint8 // what the query's cookie was (cookieResults), 0: none
	// extended is set when the rcode is one the header cannot hold
	// (BADVERS), which counts as "other".
	extended bool
	// streamed is set when a transfer went out through client.send,
	// so that no response came back to count.
	streamed bool
}

// The transfer and TSIG path notes what it finds with these; on a nil
// tally (the server does not count) they do nothing.

// noteQuestion notes the type and zone of the query's question.
func (tl *tally) noteQuestion(ids *idTable, q dns.Question) {
	if tl != nil {
		tl.qtype = qtypeIndex(q.Qtype)
		tl.zone, tl.pair = ids.ofName(strings.ToLower(q.Name))
	}
}

// noteTSIG notes why the query's TSIG failed, if it did: a transfer asked
// for with a failed TSIG is refused.
func (tl *tally) noteTSIG(c tsigCheck, qtype uint16) {
	if tl == nil {
		return
	}
	if tl.tsig = tsigReason(c); tl.tsig != 0 && (qtype == dns.TypeAXFR || qtype == dns.TypeIXFR) {
		tl.noteTransfer(qtype, transferRefused)
	}
}

// noteCookie notes what the query's cookie was.
func (tl *tally) noteCookie(result uint8) {
	if tl != nil {
		tl.cookie = result
	}
}

// noteTransfer notes the result of a transfer of type qtype.
func (tl *tally) noteTransfer(qtype uint16, result int) {
	if tl == nil {
		return
	}
	typ := 0
	if qtype == dns.TypeIXFR {
		typ = 1
	}
	tl.transfer = uint8(zoneTransfers + 2*typ + result)
}

// noteStreamed notes a transfer sent through client.send.
func (tl *tally) noteStreamed() {
	if tl != nil {
		tl.streamed = true
	}
}

// count adds one query to sh: resp is the response sent, nil for none.
func (sh *shard) count(tl *tally, resp []byte) {
	if tl.tsig != 0 {
		sh.other[tl.tsig].Add(1)
	}
	if tl.cookie != 0 {
		sh.cookies[tl.cookie].Add(1)
	}
	if len(resp) < headerLen && !tl.streamed {
		sh.other[otherDropped].Add(1)
		return
	}
	rcode := 0 // a transfer streamed
	if !tl.streamed {
		rcode = rcodeIndex[resp[3]&0xF]
	}
	if tl.extended {
		rcode = otherRcode
	}
	sh.requests.at(int(tl.pair)*numQtypes + int(tl.qtype))[rcode].Add(1)
	if sh.protocol == protoUDP && !tl.streamed && resp[2]&tcBit != 0 {
		sh.zones.at(int(tl.zone))[zoneTruncated].Add(1)
	}
	if tl.transfer != 0 {
		sh.zones.at(int(tl.zone))[tl.transfer].Add(1)
	}
}

// tcBit is the TC flag in the third header byte.
const tcBit = 0x02
