# Digital Citizenship functions: build, run locally, test, deploy.
#   make run     the whole system on this machine (DynamoDB Local, moto_server, every function)
#   make test    every test (vet, unit, adapters on the emulators, end to end, budgets)
#   make bench   the numbers: throughput, latency, requests, init, sizes, memory, cost
#   make soak    a 15-minute run at half the pipeline's ceiling and a burst: latency, memory, nothing lost

GO        ?= go
FLAGS      = -tags lambda.norpc -trimpath -ldflags "-s -w"
FUNCTIONS := $(notdir $(wildcard functions/*))
MAX_BYTES := 15728640
# Every bootstrap is at most 1.6 times hello-world's (cmd/bench/hello, same flags).
MAX_RATIO := 1.6

.PHONY: build run test vet unit sizes lint deploy deploy-check clean bench soak portal-assets chromium screenshots

# The developer portal's design system (Bootstrap Italia, pinned, from the npm
# registry) goes into the portal function's embedded files before any build.
PORTAL_VENDOR := functions/portal/static/vendor/bootstrap-italia.min.css
portal-assets: $(PORTAL_VENDOR)
$(PORTAL_VENDOR): cmd/portalassets/main.go pkg/portal/assets/assets.go
	$(GO) run ./cmd/portalassets

# Headless Chromium for the portal's browser tests (cmd/local TestPortal), from Debian's packages.
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium: $(CHROMIUM)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# The screenshots of the portal (docs/portal.md), taken by its browser test.
screenshots: $(PORTAL_VENDOR) $(CHROMIUM)
	@mkdir -p docs
	PORTAL_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run 'TestPortal$$' ./cmd/local

# Deployable binaries: linux/arm64, one folder per function with its bootstrap.
build: $(PORTAL_VENDOR)
	@rm -rf .build/lambda && mkdir -p .build/lambda/bin
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(FLAGS) -o .build/lambda/bin/ ./functions/...
	@for f in $(FUNCTIONS); do mkdir -p .build/lambda/$$f && mv .build/lambda/bin/$$f .build/lambda/$$f/bootstrap; done
	@rmdir .build/lambda/bin

# The same sources and flags for this machine's architecture, plus the local stack.
.build/local: $(shell find functions pkg cmd -name '*.go' -o -name '*.json' -path '*/served/*' -o -path '*/portal/static/*') $(PORTAL_VENDOR) go.mod go.sum
	@mkdir -p .build/local
	CGO_ENABLED=0 $(GO) build $(FLAGS) -o .build/local/ ./functions/... ./cmd/local ./cmd/bench ./cmd/bench/hello
	@touch .build/local

# hello-world, the yardstick of sizes and init times, as deployed (linux/arm64).
.build/bench/hello-arm64/bootstrap: cmd/bench/hello/main.go go.mod go.sum
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(FLAGS) -o $@ ./cmd/bench/hello

# RUN_FLAGS are the local stack's flags, e.g. RUN_FLAGS="-param UserDataDeletionGraceSeconds=30".
# Reminders come 3600 times sooner than in AWS (an hour before is a second
# before): a person sees one within a minute; REMINDER_TIME_SCALE=1 as in AWS.
RUN_FLAGS ?=
REMINDER_TIME_SCALE ?= 3600
run: .build/local
	.build/local/local -template template.yaml -bin .build/local -param ReminderTimeScale=$(REMINDER_TIME_SCALE) $(RUN_FLAGS)

vet: $(PORTAL_VENDOR)
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

# The whole output goes to .build/unit.log too; on failure, what failed is
# repeated at the end (the stack logs of a failed end-to-end test are long).
unit: $(PORTAL_VENDOR) $(CHROMIUM)
	@mkdir -p .build; { $(GO) test -count=1 -timeout 30m ./... 2>&1; echo $$? > .build/unit.rc; } | tee .build/unit.log; \
	rc=$$(cat .build/unit.rc); if [ "$$rc" != 0 ]; then echo "--- what failed (the whole output is in .build/unit.log):"; \
	  grep -E -- '^[[:space:]]*(--- FAIL|FAIL|panic:|[^[:space:]]+_test\.go:[0-9]+:)' .build/unit.log | grep -v 'local stack logs in' | tail -40; fi; exit $$rc

# Budget: every deployable bootstrap is at most 15 MB and MAX_RATIO times hello-world.
sizes: build .build/bench/hello-arm64/bootstrap
	@h=$$(stat -c %s .build/bench/hello-arm64/bootstrap); awk -v s=$$h 'BEGIN { printf "%-26s %5.1f MiB\n", "hello-world", s/1048576 }'; \
	fail=0; for f in $(FUNCTIONS); do s=$$(stat -c %s .build/lambda/$$f/bootstrap); \
	  awk -v f=$$f -v s=$$s -v h=$$h 'BEGIN { printf "%-26s %5.1f MiB  %.2fx hello-world\n", f, s/1048576, s/h }'; \
	  [ $$s -le $(MAX_BYTES) ] || { echo "$$f: bootstrap over 15 MB"; fail=1; }; \
	  awk -v s=$$s -v h=$$h -v m=$(MAX_RATIO) 'BEGIN { exit !(s <= m*h) }' || { echo "$$f: bootstrap over $(MAX_RATIO)x hello-world"; fail=1; }; \
	done; exit $$fail

lint:
	cfn-lint template.yaml monitoring.yaml

# A deployment rehearsal: the bootstraps packaged as sam package does, the
# template transformed by aws-sam-translator and created in moto's
# CloudFormation, every resource checked (cmd/deploycheck; docs/deploy.md).
deploy-check: build
	$(GO) run ./cmd/deploycheck -template template.yaml -lambda .build/lambda

# The fault tests' counts and the IAM check's coverage (cmd/local writes
# them) close the run.
test: vet lint unit sizes deploy-check
	@echo "fault tests (every accepted message final, what each got):"; cat .build/faults.txt
	@cat .build/iam.txt

# The numbers (docs/performance.md): prints a table, writes .build/bench/bench-*.json.
bench: .build/local build .build/bench/hello-arm64/bootstrap
	.build/local/bench -template template.yaml -bin .build/local -lambda .build/lambda \
	  -hello .build/local/hello -hello-arm64 .build/bench/hello-arm64/bootstrap

# The soak (docs/performance.md): about 17 minutes; not in make test.
# SOAK_FLAGS="-soak-steady 2m" shortens it.
SOAK_FLAGS ?=
soak: .build/local
	.build/local/bench -soak -template template.yaml -bin .build/local $(SOAK_FLAGS)

# ENV is a samconfig.toml environment: dev (the default), staging or prod.
ENV ?= dev
deploy: build
	sam build && sam deploy --config-env $(ENV)

clean:
	rm -rf .build .aws-sam

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
define sam_target
build-$(1): $(PORTAL_VENDOR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call sam_target,$(shell echo $(f) | sed -E 's/(^|-)([a-z])/\U\2/g')Function,$(f))))
