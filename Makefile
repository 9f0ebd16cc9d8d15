# Switchboard — build, run, test.
# `make run` starts the demo on embedded defaults; `make test` runs every test.
GO      ?= go
BIN     ?= bin/switchboard
PKGS    ?= ./...

.PHONY: all build run test test-short test-asterisk bench lint fmt vet deps node-deps clean

all: build

deps:
	$(GO) mod download

# The npm ari-client (pinned in test/ari-client/package-lock.json) that
# sim's TestStockARIClient drives against the simulator.
node-deps:
	npm ci --prefix test/ari-client --no-audit --no-fund

build: deps
	CGO_ENABLED=1 $(GO) build -o $(BIN) ./cmd/switchboard

# The demo: SQLite file, the built-in simulated Asterisk, synthetic callers
# and agents, HTTP on 127.0.0.1:8080. Ctrl-C stops it.
run: build
	./$(BIN) demo

# Every test, with the race detector, plus vet and formatting checks.
test: deps node-deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

test-short: deps node-deps
	$(GO) test -short -count=1 $(PKGS)

# ARI conformance suite against a real Asterisk: set ARI_URL, ARI_USERNAME,
# ARI_PASSWORD (see configs/asterisk/extensions_test.conf). Without them the
# suite runs against the simulator only.
test-asterisk: deps
	$(GO) test -count=1 -v -run Conformance ./ari/

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

lint: vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w .

clean:
	rm -rf bin
