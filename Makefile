# posetrackd build. `make` builds build/posetrackd; `make check` installs
# what is missing, builds the sanitizer test build and runs every test
# against throwaway servers; `make demo` and `make bench` likewise.

PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= /lib/systemd/system
ENVFILE ?= /etc/default/posetrackd
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
CLANG ?= clang

WARN := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
INCLUDES := -Iprotocol -Iworker -Itracker
LIBS := -luv -lhiredis -ljansson -lssl -lcrypto -lm
# Link-time optimization lets the hot paths inline across modules (the
# number formatter into the session writer, say): 10-20% on the compute
# core, best of ten interleaved runs of build/bench/tracker_core. One
# partition: the program is small, and split ones measured slower.
OPT ?= -O3 -g -flto -flto-partition=one
ASAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
        -fno-sanitize-recover=undefined

PROTOCOL_SRC := $(sort $(wildcard protocol/*.c))
WORKER_SRC := $(sort $(filter-out worker/main.c,$(wildcard worker/*.c)))
TRACKER_SRC := $(sort $(wildcard tracker/*.c))
# The parts of the tracker that touch sockets and the task API; the rest
# (the compute core) builds alone for fuzzing and benchmarks.
TRACKER_IO_SRC := tracker/ws_client.c tracker/stream_out.c tracker/tracker_task.c
TRACKER_CORE_SRC := $(filter-out $(TRACKER_IO_SRC),$(TRACKER_SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

OBJ := $(patsubst %.c,build/obj/%.o,$(PROTOCOL_SRC) $(WORKER_SRC) \
    $(TRACKER_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(PROTOCOL_SRC) $(WORKER_SRC) \
    $(TRACKER_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all check demo bench install fuzz unit test-build format clean deps

TOOLS := build/posetrack-replay build/posetrack-view build/posetrack-climb

all: build/posetrackd $(TOOLS)

# The tools' WebSocket server shares the daemon's codec and writer.
TOOL_SRC := tools/tool_server.c tracker/stream_out.c $(PROTOCOL_SRC)

build/posetrack-replay: tools/posetrack_replay.c $(TOOL_SRC)
	@mkdir -p build
	$(CC) $(WARN) $(OPT) -Itools $(INCLUDES) -o $@ $^ -luv -ljansson \
	    -lcrypto -lm

build/posetrack-view: tools/posetrack_view.c $(TOOL_SRC)
	@mkdir -p build
	$(CC) $(WARN) $(OPT) -Itools $(INCLUDES) -o $@ $^ -luv -ljansson \
	    -lcrypto -lm

build/posetrack-climb: tools/posetrack_climb.c $(TOOL_SRC) $(TRACKER_CORE_SRC)
	@mkdir -p build
	$(CC) $(WARN) $(OPT) -Itools $(INCLUDES) -o $@ $^ -luv -ljansson \
	    -lcrypto -lm

build/posetrackd: $(OBJ) build/obj/worker/main.o
	$(CC) $(WARN) $(OPT) -o $@ $^ $(LIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(INCLUDES) -MMD -MP -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(ASAN) $(INCLUDES) -MMD -MP -c -o $@ $<

build/asan/posetrackd: $(ASAN_OBJ) build/asan/worker/main.o
	$(CC) $(ASAN) -o $@ $^ $(LIBS)

build/asan/tests/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(ASAN) $(INCLUDES) -o $@ $^ $(LIBS) -lcmocka

build/fuzz/%: tests/fuzz/%.c $(PROTOCOL_SRC) $(TRACKER_CORE_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
	    $(INCLUDES) -o $@ $^ -ljansson -lcrypto -lm

unit: $(UNIT_BIN)
fuzz: $(FUZZ_BIN)
test-build: build/posetrackd $(TOOLS) build/asan/posetrackd unit fuzz \
    build/bench/tracker_core

deps:
	scripts/install-deps

check: deps
	$(MAKE) test-build
	scripts/run-tests

demo: deps
	$(MAKE) all
	scripts/demo

bench: deps
	$(MAKE) all build/bench/frame_parse build/bench/tracker_core
	scripts/bench

build/bench/%: bench/%.c $(PROTOCOL_SRC) $(TRACKER_CORE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(INCLUDES) -o $@ $^ -ljansson -lcrypto -lm

install: all
	install -D -m 0755 build/posetrackd $(DESTDIR)$(PREFIX)/bin/posetrackd
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's#/usr/local/bin/posetrackd#$(PREFIX)/bin/posetrackd#' \
	    -e 's#/etc/default/posetrackd#$(ENVFILE)#' \
	    systemd/posetrackd.service > $(DESTDIR)$(UNITDIR)/posetrackd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/posetrackd.service
	[ -e $(DESTDIR)$(ENVFILE) ] || \
	    install -D -m 0644 systemd/posetrackd.env $(DESTDIR)$(ENVFILE)
	install -D -m 0644 docs/posetrackd.8 $(DESTDIR)$(MANDIR)/man8/posetrackd.8

format:
	clang-format -i protocol/*.[ch] worker/*.[ch] tracker/*.[ch] tools/*.[ch] tests/unit/*.c \
	    tests/fuzz/*.c

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
