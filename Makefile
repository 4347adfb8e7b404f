# Sportello: `make demo` runs the product, `make test` runs the whole suite.
# Both install what is missing (Debian packages, npm packages) first.

GO        ?= go
BIN       := bin/sportello
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)
VENDOR    := static/vendor/htmx.min.js static/vendor/htmx-ext-sse.js
# axe-core is a test tool: the browser tests inject it from node_modules.
GOFILES   := $(shell find . -name '*.go' -not -path './node_modules/*')

# ensure-packages installs the Debian packages given that are missing.
define ensure-packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

.PHONY: demo serve build test check bench static generate packages test-packages clean

demo: packages build
	./$(BIN) demo

serve: packages build
	./$(BIN) serve

build: $(VENDOR)
	$(GO) build -o $(BIN) ./cmd/sportello

packages:
	$(call ensure-packages,postgresql postgresql-contrib)

test-packages:
	$(call ensure-packages,postgresql postgresql-contrib dovecot-imapd chromium)

# Third-party browser code comes from the npm registry (package-lock.json)
# and is copied into static/vendor, which git ignores.
static: $(VENDOR)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.js static/vendor/htmx-ext-sse.js

generate:
	$(GO) tool templ generate -include-version=false

check: $(VENDOR)
	@bad=$$(gofmt -l $(GOFILES)); if [ -n "$$bad" ]; then echo "gofmt would change:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@before=$$(cat views/*_templ.go | sha256sum); \
	$(GO) tool templ generate -include-version=false >/dev/null 2>&1 || exit 1; \
	after=$$(cat views/*_templ.go | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "templ generate changed views/*_templ.go: run 'make generate' and commit"; exit 1; fi

test: test-packages check
	CI=$${CI:-} $(GO) test -race -count=1 -timeout 20m ./...

bench: test-packages $(VENDOR)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

clean:
	rm -rf bin static/vendor/*.js node_modules
