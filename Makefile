# The texting service. `make run` runs it locally, `make test` runs every test; both install
# the Debian packages they need and start their own PostgreSQL and nginx (scripts/stack).

PREFIX ?= /usr/local
DESTDIR ?=
BINARIES := MessagesFCGI DeliveryFCGI AdminFCGI SenderCron MockProvider textingctl
# Evaluated only when a recipe uses it (install), so other targets do not pay for it.
RELEASE_BIN = $(shell swift build -c release --show-bin-path)

.PHONY: all build run test stop install clean distclean

all: build

build:
	scripts/stack build

run:
	scripts/run

test:
	scripts/test

# Benchmarks, not tests (nothing is asserted): each figure beside its ceiling, see bench/bench.py.
.PHONY: bench
bench:
	scripts/bench

# Fault injection (Tests/chaos/): eleven scenarios against a stack of its own, then a table
# (Tests/chaos/results/latest.md). `make test` runs the short form (CHAOS_SHORT=1).
.PHONY: chaos
chaos:
	scripts/chaos

stop:
	scripts/stack down

# Installs what `make build` (release) produced; it does not compile. PREFIX and DESTDIR are
# honoured; paths in the units and the example settings are rewritten to PREFIX. Nothing goes
# to /etc: the settings file and the nginx link are the operator's (README, Deployment).
install:
	@for b in $(BINARIES); do \
	    test -x "$(RELEASE_BIN)/$$b" || { echo "install: $(RELEASE_BIN)/$$b is missing: run 'make build' first" >&2; exit 1; }; \
	done
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/texting/migrations" \
	    "$(DESTDIR)$(PREFIX)/share/texting/nginx"
	for b in $(BINARIES); do install -m 0755 "$(RELEASE_BIN)/$$b" "$(DESTDIR)$(PREFIX)/bin/$$b"; done
	install -m 0644 migrations/*.sql "$(DESTDIR)$(PREFIX)/share/texting/migrations/"
	install -m 0644 deploy/nginx.conf "$(DESTDIR)$(PREFIX)/share/texting/nginx/texting.conf"
	sed 's|/usr/local|$(PREFIX)|g' deploy/texting.env.example > "$(DESTDIR)$(PREFIX)/share/texting/texting.env.example"
	chmod 0644 "$(DESTDIR)$(PREFIX)/share/texting/texting.env.example"
	install -d "$(DESTDIR)$(PREFIX)/share/doc/texting"
	install -m 0644 README.md "$(DESTDIR)$(PREFIX)/share/doc/texting/README.md"
	if [ -n "$$(ls -A deploy/systemd 2>/dev/null)" ]; then \
	    install -d "$(DESTDIR)$(PREFIX)/lib/systemd/system" && \
	    for u in deploy/systemd/*; do \
	        sed 's|/usr/local|$(PREFIX)|g' "$$u" > "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename "$$u")" && \
	        chmod 0644 "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename "$$u")" || exit 1; \
	    done; \
	fi

# Build products only; the local database in .run/ is kept (see distclean).
clean:
	swift package clean

# Everything made locally: stops both stacks, then removes .run (databases included) and .build.
distclean:
	RUN_DIR="$(CURDIR)/.run/test" scripts/stack down
	scripts/stack down
	rm -rf .run .build
