package dnssec

import "fmt"

// A key rollover replaces one key of a zone by a new one in stages, so
// that a validator holding any answer a cache may still keep always finds
// the key it needs (RFC 6781 4.1, RFC 7583):
//
//	CSK: published -> ds -> done      (double signature)
//	KSK: published -> ds -> done      (double KSK)
//	ZSK: published -> active -> done  (pre-publish)
//
// published: the new key is in the DNSKEY RRset and a KSK signs that
// RRset too, so that either DS validates it; a new CSK also signs every
// RRset beside the old one (double signature), so that the old key can
// go as soon as the parent's DS has changed. Wait until every
// cached DNSKEY RRset holds the new key, and for a CSK until every cached
// RRset carries its signature. ds: CDS and CDNSKEY name the new key, and
// the operator has the parent's DS replaced; wait until the old DS has
// left caches. active (ZSK): the new key signs the zone, the old one stays
// published until no cache keeps a signature of it. done: the old key is
// gone.

// Rollover kinds: which key is replaced.
const (
	RollCSK = "csk"
	RollKSK = "ksk"
	RollZSK = "zsk"
)

// Rollover stages.
const (
	StagePublished = "published"
	StageDS        = "ds"
	StageActive    = "active"
	StageDone      = "done"
)

// Waits: what must have left caches before a stage may end.
const (
	WaitDNSKEY     = "dnskey"     // the DNSKEY RRset served before the stage
	WaitParentDS   = "parent-ds"  // the parent's old DS, once the operator says the new one is there
	WaitSignatures = "signatures" // every RRset signed before the stage
)

// RolloverStages lists the stages of a kind, in order.
func RolloverStages(kind string) ([]string, error) {
	switch kind {
	case RollCSK, RollKSK:
		return []string{StagePublished, StageDS, StageDone}, nil
	case RollZSK:
		return []string{StagePublished, StageActive, StageDone}, nil
	}
	return nil, fmt.Errorf("key rollover kind %q: want %s, %s or %s", kind, RollCSK, RollKSK, RollZSK)
}

// NextStage is the stage after stage, or "" after the last.
func NextStage(kind, stage string) string {
	stages, _ := RolloverStages(kind)
	for i, s := range stages {
		if s == stage && i+1 < len(stages) {
			return stages[i+1]
		}
	}
	return ""
}

// StageWait is what a stage of a kind waits for before the next may
// begin.
func StageWait(kind, stage string) string {
	switch {
	case stage == StagePublished && kind == RollCSK:
		return WaitSignatures // its signatures in every cache, its key in every DNSKEY RRset
	case stage == StagePublished:
		return WaitDNSKEY
	case stage == StageDS:
		return WaitParentDS
	case stage == StageActive:
		return WaitSignatures
	}
	return ""
}

// StageUses gives what the old and the new key do at a stage. At done the
// old key does nothing: it is no longer published.
func StageUses(kind, stage string) (old, new Use) {
	full := Use{Publish: true, SignKeys: true, SignZone: true, Parent: true}
	switch kind {
	case RollCSK:
		switch stage {
		case StagePublished:
			return full, Use{Publish: true, SignKeys: true, SignZone: true}
		case StageDS:
			return Use{Publish: true, SignKeys: true, SignZone: true}, full
		case StageDone:
			return Use{}, full
		}
	case RollKSK:
		ksk := Use{Publish: true, SignKeys: true, Parent: true}
		switch stage {
		case StagePublished:
			return ksk, Use{Publish: true, SignKeys: true}
		case StageDS:
			return Use{Publish: true, SignKeys: true}, ksk
		case StageDone:
			return Use{}, ksk
		}
	case RollZSK:
		zsk := Use{Publish: true, SignZone: true}
		switch stage {
		case StagePublished:
			return zsk, Use{Publish: true}
		case StageActive:
			return Use{Publish: true}, zsk
		case StageDone:
			return Use{}, zsk
		}
	}
	return Use{}, Use{}
}
