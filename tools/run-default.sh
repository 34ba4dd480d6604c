#!/usr/bin/env bash
# `make run`: the suite's main job with defaults: a short one-CSU benchmark (quick rules) on the
# bundled hypervisor. PLATFORM=native make run runs it on plain processes instead. Where /dev/kvm
# cannot be used and PLATFORM is not set, it says so loudly and runs on native, so a new user still
# sees the whole benchmark work.
set -euo pipefail
cd "$(dirname "$0")/.."
platform=${PLATFORM:-hv}
if [[ -z ${PLATFORM:-} ]] && ! { [[ -c /dev/kvm ]] && : 2>/dev/null </dev/kvm; }; then
	echo "make run: /dev/kvm is missing or cannot be opened here, so the bundled hypervisor cannot run;" >&2
	echo "make run: running on --platform native instead (set PLATFORM=hv to insist)" >&2
	platform=native
fi
exec build/vcons run --platform "$platform" --csus 1 --rules runrules/quick.yaml
