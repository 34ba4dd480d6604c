#!/usr/bin/env bash
# tools/test/tsan.sh: make test's ThreadSanitizer stage: tools/run-tsan.sh --tap over build/tsan (which
# `make test` builds with TSAN=1 first): the unit tests that start threads, every threaded server under
# its load generator, the self-driving guests and one short native harness run, a few seconds each;
# one TAP line per scenario, failing on any TSan report (README: "Data races").
cd "$VCONS_TOP" || exit 1
if [[ ! -x build/tsan/vcons ]]; then
	echo "not ok - ThreadSanitizer: build/tsan is not built (make TSAN=1 all)"
	exit 1
fi
units=(build/tsan/test/*)
exec tools/run-tsan.sh --tap --build build/tsan --unit "${units[*]}"
