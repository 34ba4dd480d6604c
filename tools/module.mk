# tools/: the project's own tooling (test and benchmark runners, the nested-KVM guest, static links,
# the layer check).
# Its tests prove every declared benchmark script runs end to end, natively and on hv; run cppcheck
# over the tree (tools/test/lint.sh); run the threaded programs under ThreadSanitizer
# (tools/test/tsan.sh, over the TSAN=1 build that `make test` makes first); check that the
# include graph between folders only points down (tools/test/layers.sh: tools/layers.py and its
# layer order); and keep every README reference (tools/test/readmes.sh: tools/check-readmes.py,
# no missing path, no placeholder).
E2E_TESTS += tools/test/benches.sh tools/test/benches.sh@hv tools/test/lint.sh tools/test/tsan.sh
E2E_TESTS += tools/test/layers.sh tools/test/readmes.sh
