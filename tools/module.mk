# tools/: the project's own tooling (test and benchmark runners, the nested-KVM guest, static links).
# Its test proves every declared benchmark script runs end to end, natively and on hv.
E2E_TESTS += tools/test/benches.sh tools/test/benches.sh@hv
