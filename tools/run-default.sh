#!/usr/bin/env bash
# `make run`: the suite's main job with defaults: a short one-CSU benchmark on the bundled hypervisor.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/vcons ]]; then
	echo "make run: the harness (build/vcons, issue 6) is not built yet; nothing to run" >&2
	exit 1
fi
exec build/vcons run --platform "${PLATFORM:-hv}" --csus 1 --rules runrules/quick.yaml
