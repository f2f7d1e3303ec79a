# wvbatch: build, test, demo and benchmarks. Everything installs what it needs.
GO          ?= go
BIN         := $(CURDIR)/.bin
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
DEMO_STATE  := $(CURDIR)/.demo
DEMO_NOW    := 2027-01-04T09:00:00Z

.PHONY: all build test fmt-check tidy-check vet staticcheck unit demo bench soak fuzz image clean

all: build

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
KO          := $(BIN)/ko
KO_VERSION  := v0.19.1
IMAGE       := $(CURDIR)/wvbatch-image.oci.tar

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/wvbatch ./cmd/wvbatch

## test: formatting, go.mod tidiness, vet, staticcheck and the race-enabled test suite (what CI runs)
test: fmt-check tidy-check vet staticcheck unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

vet:
	$(GO) vet ./...

$(STATICCHECK):
	GOBIN=$(BIN) GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 25m ./...

## demo: the main job against the built-in sandbox
demo: build
	@rm -rf $(DEMO_STATE)
	XDG_STATE_HOME=$(DEMO_STATE) WVBATCH_SMTP_URL=file://$(DEMO_STATE)/outbox WVBATCH_SMTP_FROM=wvbatch@localhost \
		$(BIN)/wvbatch submit samples/contractors.xlsx --sandbox --yes --now $(DEMO_NOW) \
		--store $(DEMO_STATE)/wvbatch.db --report-dir $(DEMO_STATE)/report
	@echo
	@echo "The run stays recorded in $(DEMO_STATE)/wvbatch.db (the in-process sandbox is gone):"
	$(BIN)/wvbatch runs --store $(DEMO_STATE)/wvbatch.db
	@echo
	@echo "Submitting the same roster again resumes that run and orders nothing twice:"
	XDG_STATE_HOME=$(DEMO_STATE) WVBATCH_SMTP_URL=file://$(DEMO_STATE)/outbox WVBATCH_SMTP_FROM=wvbatch@localhost \
		$(BIN)/wvbatch submit samples/contractors.xlsx --sandbox --yes --now $(DEMO_NOW) \
		--store $(DEMO_STATE)/wvbatch.db --report-dir $(DEMO_STATE)/report | head -3
	@echo
	@echo "The report: $(DEMO_STATE)/report; the email it sent: $(DEMO_STATE)/outbox"

## demo-web: the web page on the built-in sandbox, with a demo user
DEMO_WEB       := $(CURDIR)/.demo-web
DEMO_WEB_ADDR  ?= 127.0.0.1:8080
demo-web: build
	@rm -rf $(DEMO_WEB)
	@echo "demo-password" | $(BIN)/wvbatch users add demo --role admin --password-stdin --store $(DEMO_WEB)/wvbatch.db >/dev/null
	@echo "wvbatch web demo: open http://$(DEMO_WEB_ADDR) and sign in as demo, password demo-password"
	@echo "orders go to the built-in sandbox; try samples/contractors-with-errors.csv. Ctrl-C stops it."
	XDG_STATE_HOME=$(DEMO_WEB) WVBATCH_SMTP_URL=file://$(DEMO_WEB)/outbox WVBATCH_SMTP_FROM=wvbatch@localhost \
		$(BIN)/wvbatch serve --sandbox --now $(DEMO_NOW) --store $(DEMO_WEB)/wvbatch.db --listen $(DEMO_WEB_ADDR)

## bench: full-size roster benchmarks (slow; not part of CI)
BENCH_ROWS ?= 1048575
bench:
	WVBATCH_BENCH_ROWS=$(BENCH_ROWS) $(GO) test -run '^$$' -bench Roster -benchtime 1x -timeout 60m -v ./internal/importer/ | tee bench-roster.txt
	# The whole validate command, report included, against its import and the bare loops: per-row cost at 10k, 100k and full size.
	rm -f bench-validate.txt
	for n in 10000 100000 $(BENCH_ROWS); do \
		WVBATCH_BENCH_ROWS=$$n $(GO) test -run '^$$' -bench ValidateCommand -benchtime 1x -timeout 90m ./cmd/wvbatch/ | tee -a bench-validate.txt || exit 1; \
	done
	$(GO) test -run '^$$' -bench Sandbox -benchtime 3x -timeout 30m ./internal/submit/ | tee bench-submit.txt
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./internal/queue/ | tee bench-queue.txt
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./internal/runstore/ | tee bench-runstore.txt

## soak: the crash-safety harness with SOAK_KILLS kills (default 60); prints the tally
soak:
	WVBATCH_SOAK_KILLS=$${SOAK_KILLS:-60} $(GO) test -run '^TestCrashSafety$$' -count=1 -v -timeout 60m ./cmd/wvbatch/

## fuzz: run each fuzz target for FUZZTIME (default 60s)
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseWall$$' -fuzztime $(FUZZTIME) ./internal/roster/
	$(GO) test -run '^$$' -fuzz '^FuzzCSV$$' -fuzztime $(FUZZTIME) ./internal/roster/
	$(GO) test -run '^$$' -fuzz '^FuzzXLSX$$' -fuzztime $(FUZZTIME) ./internal/roster/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/emg/

## image: the container image as an OCI archive ($(IMAGE)), built by ko without a Docker engine or a registry:
## the base (CA certificates, /etc/passwd, /tmp; no OS) is written into ko's cache by deploy/image/kobase
$(KO):
	GOBIN=$(BIN) GOFLAGS= $(GO) install github.com/google/ko@$(KO_VERSION)

image: $(KO)
	rm -rf $(CURDIR)/.image && mkdir -p $(CURDIR)/.image/kocache
	digest=$$(cd deploy/image/kobase && GOFLAGS= $(GO) run . -layout $(CURDIR)/.image/kocache/img) && \
	VERSION=$(VERSION) KOCACHE=$(CURDIR)/.image/kocache KO_DOCKER_REPO=wvbatch.local/wvbatch \
	KO_DEFAULTBASEIMAGE=wvbatch.local/base@$$digest \
		$(KO) build ./cmd/wvbatch --bare --push=false --platform=linux/amd64 --image-user 65532:65532 \
		--image-label org.opencontainers.image.version=$(VERSION) --tags $(VERSION) \
		--oci-layout-path $(CURDIR)/.image/oci
	tar -C $(CURDIR)/.image/oci -cf $(IMAGE) .
	cd deploy/image/kobase && WVBATCH_IMAGE_LAYOUT=$(CURDIR)/.image/oci WVBATCH_IMAGE_VERSION=$(VERSION) GOFLAGS= $(GO) test -count=1 .
	@echo "$(IMAGE): load it with 'podman load -i $(IMAGE)' or 'skopeo copy oci-archive:$(IMAGE) docker://REGISTRY/wvbatch:$(VERSION)'"

clean:
	rm -rf $(BIN) $(DEMO_STATE) $(DEMO_WEB) $(CURDIR)/.image $(IMAGE)
