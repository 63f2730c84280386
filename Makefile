# slotdns: `make run` serves the demo, `make test` runs every test.

GO       ?= go
BIN      := bin/slotdns
CONFIG   ?= slotdns.toml
FUZZTIME ?= 10s
# shared/ sits beside the repository (CI copies it there too).
SHARED   ?= ../shared

.PHONY: build run test fuzz bench fmt vet

build:
	$(GO) build -o $(BIN) ./cmd/slotdns

run: build
	$(BIN) serve --config $(CONFIG)

# A failing browser test leaves its screenshot in $(ARTIFACTS).
ARTIFACTS ?= test-artifacts

test: vet
	SLOTDNS_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) $(GO) test -race -count=1 ./...

# Every native fuzz target of every package, FUZZTIME each (go test -fuzz
# takes one target of one package at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./... | grep -v /integration); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# Go benchmarks of the lookup, the snapshot, the handler and a signature,
# and of signing a zone of 100,000 names afresh and from the signatures a
# start finds saved; then, where
# dnsperf, nsd and knotd are installed, slotdns beside NSD and Knot under
# dnsperf; DO=1 queries against the zone unsigned and signed, by slotdns
# and by Knot; the same dnsperf run with metrics off and on (scraped every
# second, an event stream open); a one-source flood beside another source,
# slotdns and NSD both rate limiting; the same run with rate limiting and
# cookies off and on (not triggered); queries with a client cookie beside
# plain ones; memory with 3,000 idle TCP connections beside NSD and Knot;
# memory under a flood of names never asked before, beside NSD and Knot;
# one zone of 1,000,007 records (generated at run time) beside NSD and
# Knot: start, memory, restart, swaps, reload and an AXFR into Knot;
# a swap in the server with 1,000 zones
# and apps and with a zone of 1,000,000 names (generated at run time), and the slotdns swap command
# against both; the time from a swap to the first answer with the new
# target, from slotdns (also signed, DO set, the RRSIG required) and
# (where nsd and knotd are installed) from NSD and Knot as its
# secondaries; an AXFR of a zone of 100,000 names, unsigned and signed;
# and queries
# from one source while 3,000 idle and 500 slowloris TCP connections come
# from others.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./zones ./zones/compact ./zones/scan ./dnsserver ./dnssec
	SHARED=$(SHARED) integration/bench/sidebyside.sh $(BIN)
	SHARED=$(SHARED) integration/bench/dnssec.sh $(BIN)
	SHARED=$(SHARED) integration/bench/metrics.sh $(BIN)
	SHARED=$(SHARED) integration/bench/rrl.sh $(BIN)
	SHARED=$(SHARED) integration/bench/protections.sh $(BIN)
	SHARED=$(SHARED) integration/bench/cookies.sh $(BIN)
	SHARED=$(SHARED) integration/bench/tcpidle.sh $(BIN)
	SHARED=$(SHARED) integration/bench/randomnames.sh $(BIN)
	SHARED=$(SHARED) integration/bench/bigzone.sh $(BIN)
	$(GO) test -run '^$$' -bench Swap -benchtime 200x ./pipeline
	$(GO) test -run '^$$' -bench CLISwap -benchtime 50x ./integration
	$(GO) test -run '^$$' -bench 'SwapTo(Signed)?Answer' -benchtime 200x ./integration
	$(GO) test -run '^$$' -bench 'Update(Rate|ToAnswer)' -benchtime 200x ./integration
	$(GO) test -run '^$$' -bench SwapToSecondaries -benchtime 20x ./integration
	$(GO) test -run '^$$' -bench AXFR100k -benchtime 10x ./integration
	$(GO) test -run '^$$' -bench TCPHold -benchtime 1x ./integration

fmt:
	gofmt -l -w .

vet:
	$(GO) vet ./...
