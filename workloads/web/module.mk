# workloads/web/: the web VM. libvcweb.a holds everything testable without sockets (HTTP parser,
# file set, bank journal, pages, the URL space, HTTP/2 sessions) so the sanitizer build covers it;
# vcons-web is the static guest server, vcons-web-load the host load generator. Whatever links h2.c
# adds -lnghttp2 (Debian's libnghttp2-dev ships libnghttp2.a for the static link, as libssl-dev
# does libssl.a and libcrypto.a).
LIBS += vcweb
vcweb.srcs := workloads/web/http.c workloads/web/fileset.c workloads/web/bank.c \
              workloads/web/pages.c workloads/web/app.c workloads/web/h2.c

GUEST_PROGS += vcons-web
vcons-web.srcs := workloads/web/web_main.c workloads/web/server.c
vcons-web.deps := vcweb vcsrv vclib
vcons-web.ldlibs := -lnghttp2 -lssl -lcrypto -lpthread

UNIT_TESTS += vcweb-http-test
vcweb-http-test.srcs := workloads/web/test/http_test.c
vcweb-http-test.deps := vcweb
vcweb-http-test.ldlibs := -lcmocka

UNIT_TESTS += vcweb-core-test
vcweb-core-test.srcs := workloads/web/test/core_test.c
vcweb-core-test.deps := vcweb
vcweb-core-test.ldlibs := -lcmocka -lpthread

# HTTP/2 sessions driven by an nghttp2 client session, no sockets
UNIT_TESTS += vcweb-h2-test
vcweb-h2-test.srcs := workloads/web/test/h2_test.c
vcweb-h2-test.deps := vcweb vcsrv vclib
vcweb-h2-test.ldlibs := -lcmocka -lnghttp2 -lpthread

HOST_PROGS += vcons-web-load
vcons-web-load.srcs := workloads/web/load_main.c workloads/web/client.c
vcons-web-load.deps := vcweb vcload vclib
vcons-web-load.ldlibs := -lcurl -ljansson -lpthread -lm

WEB_E2E := workloads/web/test/load_e2e.sh workloads/web/test/curl_e2e.sh \
           workloads/web/test/malformed_e2e.sh workloads/web/test/crash_e2e.sh \
           workloads/web/test/validation_e2e.sh
# Each also runs with vcons-web in vcons-hv VMs (@hv: tools/testlib.sh spawn_guest/run_guest).
E2E_TESTS += $(WEB_E2E) $(addsuffix @hv,$(WEB_E2E))
BENCHES += workloads/web/bench/web_bench.sh workloads/web/bench/web_bench.sh@hv

# the request parser under libFuzzer (`make fuzz`); its corpus workloads/web/fuzz/http/ is replayed
# under ASan+UBSan by `make test`
FUZZERS += web-http
web-http.srcs := workloads/web/fuzz/http.c
web-http.deps := vcweb

# a connection's requests answered by the app, with the bank's money and journal checked
FUZZERS += web-app
web-app.srcs := workloads/web/fuzz/app.c
web-app.deps := vcweb
web-app.ldlibs := -lpthread

# a connection's bytes to an HTTP/2 session (h2.c): frames, HPACK, flow control, the answers
FUZZERS += web-h2
web-h2.srcs := workloads/web/fuzz/h2.c
web-h2.deps := vcweb vcsrv
web-h2.ldlibs := -lnghttp2 -lpthread
