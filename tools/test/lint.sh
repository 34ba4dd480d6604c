#!/usr/bin/env bash
# tools/test/lint.sh: make test's static analysis: cppcheck over every C file the build compiles
# (tools/lint.sh --cppcheck-only, about 10 s), so a finding fails the tests the day it is written.
# clang-tidy takes minutes and stays in `make lint`. The findings, one per line, are in the log.
source "$(dirname "$0")/../testlib.sh"
cd "$TOP" || exit 1
t_tool cppcheck tools/lint.sh --cppcheck-only
t_done
