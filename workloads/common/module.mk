# workloads/common/: the shared load-generation library libvcload.a (histograms, rng, report lines,
# open/closed-loop engine) used by every host load generator, the harness, and static guest programs.
# Also libvcguestio.a, the report destination and stop sources of the self-driving guest programs.
LIBS += vcload
vcload.srcs := workloads/common/hdr.c workloads/common/rng.c workloads/common/report.c \
               workloads/common/sched.c workloads/common/loadgen.c workloads/common/loadgen_worker.c
# users link: name.deps := vcload vclib   name.ldlibs := -ljansson -lpthread -lm

# libvcguestio.a: report destination (--report HOST:PORT) and stop sources (stdin, SIGTERM/SIGINT)
# of the self-driving guest programs vcons-jbb and vcons-idle.
LIBS += vcguestio
vcguestio.srcs := workloads/common/guestio.c
# users link: name.deps := vcguestio vcload vclib   name.ldlibs := -ljansson -lpthread -lm

# libvcsrv.a: the network-server core of vcons-db, vcons-web and vcons-mail (listeners, workers,
# timeouts, stop; plain and TLS transports) and the byte buffers their protocols work on.
LIBS += vcsrv
vcsrv.srcs := workloads/common/buf.c workloads/common/srv.c workloads/common/srv_tls.c
# users link: name.deps := vcsrv vclib   name.ldlibs := -lpthread (+ -lssl -lcrypto for srv_tls.h)

UNIT_TESTS += vcload-hdr-test
vcload-hdr-test.srcs := workloads/common/test/hdr_test.c
vcload-hdr-test.deps := vcload vclib
vcload-hdr-test.ldlibs := -lcmocka -ljansson -lm

UNIT_TESTS += vcload-sched-test
vcload-sched-test.srcs := workloads/common/test/sched_test.c
vcload-sched-test.deps := vcload
vcload-sched-test.ldlibs := -lcmocka -lm

UNIT_TESTS += vcload-loadgen-test
vcload-loadgen-test.srcs := workloads/common/test/loadgen_test.c
vcload-loadgen-test.deps := vcload vclib
vcload-loadgen-test.ldlibs := -lcmocka -ljansson -lpthread -lm

UNIT_TESTS += vcsrv-test
vcsrv-test.srcs := workloads/common/test/srv_test.c
vcsrv-test.deps := vcsrv vclib
vcsrv-test.ldlibs := -lcmocka -lssl -lcrypto -lpthread
