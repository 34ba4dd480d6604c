#!/usr/bin/env bash
# tools/link-static.sh CC ARGS...: runs the link command of a static guest program and passes on what
# the linker prints, except glibc's notes that getaddrinfo, gethostbyname and dlopen in a static
# program need the shared glibc at run time (with the "in function" line before each). Static
# libcrypto and libsqlite3 reference those functions; no guest calls them (guests take numeric
# addresses and load no SQLite extensions), so on every build they were a dozen lines of noise.
# A failed link shows everything it printed.
out=$("$@" 2>&1)
rc=$?
if ((rc)); then
	[[ -n $out ]] && printf '%s\n' "$out" >&2
	exit "$rc"
fi
[[ -n $out ]] || exit 0
printf '%s\n' "$out" | awk '
	/in statically linked applications requires at runtime the shared libraries/ { held = ""; next }
	{ if (held != "") print held; held = "" }
	/: in function `[^'"'"']*'"'"':$/ { held = $0; next }
	{ print }
	END { if (held != "") print held }' >&2
exit 0
