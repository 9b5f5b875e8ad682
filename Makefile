# cairn — the two set-up commands are `make demo` and `make test` (see README.md).
# Both install what they need (Debian packages, npm packages) idempotently, then build.

SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
CAIRN := $(BUILD)/src/cli/cairn
DEMO_DIR ?= demo-data

APT_PACKAGES := build-essential cmake ninja-build pkg-config git ca-certificates \
  libsimdjson-dev libzstd-dev libroaring-dev libisal-dev zlib1g-dev libpugixml-dev \
  libyaml-cpp-dev libcli11-dev libfmt-dev libre2-dev libhyperscan-dev libcurl4-openssl-dev \
  libssl-dev libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev awscli \
  libjemalloc-dev libboost-dev libsodium-dev libzip-dev chromium curl
FUZZ_PACKAGES := clang libclang-rt-14-dev

# Shell fragments for recipes: the packages of a list that are not installed, and an install (as
# root, or through sudo) that refreshes apt's lists first.
missing_packages = $$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done)
APT_INSTALL = SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

UI_DIR := src/serve/ui

.PHONY: all deps apt-deps npm-deps ui-deps build test demo fuzz bench clean format

all: build

# Installs only the Debian packages that are missing; runs apt-get update only when needed.
apt-deps:
	@missing=$(call missing_packages,$(APT_PACKAGES)); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(APT_INSTALL) $$missing >/dev/null; \
	fi
	@# Node.js may come from another package (nodesource's nodejs bundles npm): install only if absent.
	@if ! command -v npm >/dev/null; then $(APT_INSTALL) nodejs npm >/dev/null; fi

# Installs the npm packages the tests use (emulators, peers) from package-lock.json, once.
npm-deps:
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    echo "installing npm packages"; npm ci --no-audit --no-fund --loglevel=error; \
	  fi; \
	fi

# Installs the web UI's build tools (esbuild, CodeMirror 6) from src/serve/ui/package-lock.json,
# once: a package of their own, so that building cairn needs none of the test harness's packages.
ui-deps: apt-deps
	@if [ ! -d $(UI_DIR)/node_modules ] || [ $(UI_DIR)/package-lock.json -nt $(UI_DIR)/node_modules/.package-lock.json ]; then \
	  echo "installing the web UI's npm packages"; \
	  (cd $(UI_DIR) && npm ci --no-audit --no-fund --loglevel=error); \
	fi

deps: apt-deps npm-deps ui-deps

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: apt-deps ui-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

# The demo needs only the cairn binary, not the tests: build just that target.
demo: apt-deps ui-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target cairn
	@time bash scripts/demo.sh $(CAIRN) $(DEMO_DIR)

fuzz: apt-deps
	@missing=$(call missing_packages,$(FUZZ_PACKAGES)); \
	if [ -n "$$missing" ]; then $(APT_INSTALL) $$missing >/dev/null; fi
	bash fuzz/run.sh

bench: deps build
	bash bench/run.sh

format:
	find src tests bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(DEMO_DIR)
