# Switchboard — build, run, test.
# `make run` starts the demo on embedded defaults; `make test` runs every test.
GO      ?= go
BIN     ?= bin/switchboard
PKGS    ?= ./...
# make fuzz: how long each fuzz target runs, which run (an extended regular
# expression matched against "./pkg FuzzName"), and extra go test flags
# (e.g. FUZZFLAGS=-fuzzminimizetime=5s to spend less time minimising).
FUZZTIME  ?= 30s
FUZZ      ?= .
FUZZFLAGS ?=

.PHONY: all build run test test-short test-asterisk bench fuzz lint fmt vet deps node-deps clean

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

# Every fuzz target (func FuzzX in a _test.go file), one after another, for
# FUZZTIME each; prints the executions each made. A failure stops the run
# and shows the failing input (saved under the package's testdata/fuzz).
fuzz:
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for f in $$(grep -rl --include='*_test.go' --exclude-dir=node_modules '^func Fuzz' . | sort); do \
	  pkg=./$$(dirname "$${f#./}"); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' "$$f" | sed 's/^func //'); do \
	    echo "$$pkg $$t" | grep -Eq -- '$(FUZZ)' || continue; \
	    printf '%s %s (%s): ' "$$pkg" "$$t" '$(FUZZTIME)'; \
	    if $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "$$pkg" >"$$log" 2>&1; then \
	      grep -o 'execs: [0-9]*' "$$log" | tail -n 1; \
	    else \
	      echo FAILED; cat "$$log"; exit 1; \
	    fi; \
	  done; \
	done

lint: vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w .

clean:
	rm -rf bin
