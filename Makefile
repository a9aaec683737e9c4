# Digital Citizenship functions: build, run locally, test, deploy.
#   make run     the whole system on this machine (moto_server + every function)
#   make test    every test (vet, unit, adapters on the emulator, end to end, budgets)

GO        ?= go
FLAGS      = -tags lambda.norpc -trimpath -ldflags "-s -w"
FUNCTIONS := $(notdir $(wildcard functions/*))
MAX_BYTES := 15728640

.PHONY: build run test vet unit sizes lint deploy clean

# Deployable binaries: linux/arm64, one folder per function with its bootstrap.
build:
	@rm -rf .build/lambda && mkdir -p .build/lambda/bin
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(FLAGS) -o .build/lambda/bin/ ./functions/...
	@for f in $(FUNCTIONS); do mkdir -p .build/lambda/$$f && mv .build/lambda/bin/$$f .build/lambda/$$f/bootstrap; done
	@rmdir .build/lambda/bin

# The same sources and flags for this machine's architecture, plus the local stack.
.build/local: $(shell find functions pkg cmd -name '*.go') go.mod go.sum
	@mkdir -p .build/local
	CGO_ENABLED=0 $(GO) build $(FLAGS) -o .build/local/ ./functions/... ./cmd/local
	@touch .build/local

run: .build/local
	.build/local/local -template template.yaml -bin .build/local

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

unit:
	$(GO) test -count=1 ./...

# Budget: every deployable bootstrap is at most 15 MB.
sizes: build
	@fail=0; for f in $(FUNCTIONS); do s=$$(stat -c %s .build/lambda/$$f/bootstrap); \
	  awk -v f=$$f -v s=$$s 'BEGIN { printf "%-22s %5.1f MiB\n", f, s/1048576 }'; \
	  [ $$s -le $(MAX_BYTES) ] || { echo "$$f: bootstrap over 15 MB"; fail=1; }; done; exit $$fail

lint:
	cfn-lint template.yaml

test: vet lint unit sizes

deploy: build
	sam build && sam deploy

clean:
	rm -rf .build .aws-sam

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
define sam_target
build-$(1):
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call sam_target,$(shell echo $(f) | sed -E 's/(^|-)([a-z])/\U\2/g')Function,$(f))))
