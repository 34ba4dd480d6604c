# lib/: libvclib.a, what every vcons program needs (option parsing, the launchers' shared options,
# numbers, the size syntax, monotonic time, JSON getters, stop sources, the TCP listener, command
# lines for execv), and its unit tests. Named vclib, not vcons: the `vcons` program's variables
# (vcons.srcs) would collide.
LIBS += vclib
vclib.srcs := lib/opt.c lib/num.c lib/size.c lib/clock.c lib/json.c lib/stop.c lib/net.c lib/vmopt.c \
               lib/argv.c lib/fs.c

UNIT_TESTS += vclib-opt-test
vclib-opt-test.srcs := lib/test/opt_test.c
vclib-opt-test.deps := vclib
vclib-opt-test.ldlibs := -lcmocka

UNIT_TESTS += vclib-size-test
vclib-size-test.srcs := lib/test/size_test.c
vclib-size-test.deps := vclib
vclib-size-test.ldlibs := -lcmocka

UNIT_TESTS += vclib-util-test
vclib-util-test.srcs := lib/test/util_test.c
vclib-util-test.deps := vclib
vclib-util-test.ldlibs := -lcmocka -ljansson

UNIT_TESTS += vclib-stop-test
vclib-stop-test.srcs := lib/test/stop_test.c
vclib-stop-test.deps := vclib
vclib-stop-test.ldlibs := -lcmocka

UNIT_TESTS += vclib-net-test
vclib-net-test.srcs := lib/test/net_test.c
vclib-net-test.deps := vclib
vclib-net-test.ldlibs := -lcmocka
