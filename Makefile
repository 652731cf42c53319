# Shorewatch -- build, run and test. See README.md.
#
#   make           build build/shorewatch and build/shorewatch-sim
#   make run       install what is missing, build, start PostGIS under ./var, the server and a demo fleet
#   make test      install what is missing, build, run every test (unit, integration, browser)
#   make bench     performance figures
#   make deps      install the Debian and npm packages that are missing

SHELL := /bin/bash
CC ?= cc
PKGS := libwebsockets libpq gdal proj geos jansson libsodium
CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE -Iserver -Igis
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS += $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread -lm $(EXTRA_LDFLAGS)

BUILD := build
# Everything in gis/ and server/ is library code except the two programs' mains
# and the simulator's own files (server/sim_*.c).
LIB_SRCS := $(wildcard gis/*.c) $(filter-out server/main.c server/sim_%.c,$(wildcard server/*.c))
SIM_SRCS := $(wildcard server/sim_*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SIM_OBJS := $(SIM_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/cu_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps deps-apt deps-npm run test test-unit test-integration test-browser bench clean format lint asan fuzz fuzz-short

all: $(BUILD)/shorewatch $(BUILD)/shorewatch-sim web/vendor/.stamp

$(BUILD)/obj/%.o: %.c $(wildcard server/*.h gis/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libshorewatch.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/shorewatch: $(BUILD)/obj/server/main.o $(BUILD)/libshorewatch.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/shorewatch-sim: $(SIM_OBJS) $(BUILD)/libshorewatch.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libshorewatch.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

# The geofence checker against PostGIS (tests/tools/gf_check.c): like a unit test, without cmocka.
$(BUILD)/tests/gf_check: tests/tools/gf_check.c tests/tools/gf_gen.h $(BUILD)/libshorewatch.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/tools -o $@ $< $(BUILD)/libshorewatch.a $(LDLIBS)

# MapLibre GL JS comes from the npm registry and is served by our own server.
web/vendor/.stamp: web/package.json
	cd web && npm install --no-audit --no-fund --loglevel=error
	mkdir -p web/vendor
	cp web/node_modules/maplibre-gl/dist/maplibre-gl.js web/node_modules/maplibre-gl/dist/maplibre-gl.css web/vendor/
	touch $@

tests/node_modules/.stamp: tests/package.json
	cd tests && npm install --no-audit --no-fund --loglevel=error
	touch $@

# libFuzzer targets: the pure decoders only (bytes in, structs out).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB := $(wildcard server/jt808.c server/nmea.c server/ais.c)
FUZZ_SECONDS ?= 300

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(wildcard server/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -Iserver -o $@ $< $(FUZZ_LIB)

# A long run of every target (make fuzz FUZZ_SECONDS=3600); findings land in build/fuzz/.
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_BINS); do n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "== $$n ($(FUZZ_SECONDS) s)"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -artifact_prefix=$(BUILD)/fuzz/$$n- \
			$(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

# The short run that `make test` includes.
fuzz-short: $(FUZZ_BINS)
	@for t in $(FUZZ_BINS); do n=$$(basename $$t); \
		echo "== $$n (20 s)"; \
		$$t -max_total_time=20 -rss_limit_mb=1024 -artifact_prefix=$(BUILD)/fuzz/$$n- \
			tests/fuzz/corpus/$${n#fuzz_} 2>&1 | tail -3 || exit 1; done

deps: deps-apt

# Installs the Debian packages that are missing (apt-get update first).
APT_PKGS := build-essential pkg-config libwebsockets-dev libpq-dev postgresql-15 postgresql-15-postgis-3 \
	libgdal-dev gdal-bin libproj-dev proj-bin libgeos-dev libjansson-dev libsodium-dev libcmocka-dev \
	nodejs npm chromium fonts-wqy-microhei curl ca-certificates clang libclang-rt-14-dev
deps-apt:
	@missing=""; for p in $(APT_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if command -v node >/dev/null && command -v npm >/dev/null; then missing=$$(echo $$missing | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' '); fi; \
	if [ -n "$$(echo $$missing)" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi

run: deps all
	server/scripts/run.sh

test: deps all $(UNIT_BINS) $(BUILD)/tests/gf_check $(FUZZ_BINS) tests/node_modules/.stamp
	tests/run-all.sh

test-unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

test-integration: all tests/node_modules/.stamp
	cd tests && node --test --test-concurrency=1 integration/

test-browser: all tests/node_modules/.stamp
	cd tests && node --test --test-concurrency=1 browser/

bench: deps all $(BUILD)/tests/gf_check tests/node_modules/.stamp
	tests/bench/run.sh

asan:
	$(MAKE) BUILD=build-asan EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" build-asan/shorewatch $(UNIT_BINS:$(BUILD)/%=build-asan/%)

format:
	clang-format -i server/*.c server/*.h gis/*.c gis/*.h tests/unit/*.c

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
		-Iserver -Igis server gis

clean:
	rm -rf build build-asan
