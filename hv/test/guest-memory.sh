#!/usr/bin/env bash
# hv reaches guest memory only through hv/uaccess.h: hv/test/guest_memory_check.py over hv/, and
# the same check over a file that breaks each of its rules (so that the check itself can fail).
source "$VCONS_TOP/tools/testlib.sh"
CHECK=$TOP/hv/test/guest_memory_check.py

if out=$(python3 "$CHECK" "$TOP/hv" 2>&1); then
	t_ok "hv/ reaches guest memory only through uaccess.h ($out)"
else
	t_fail "hv/ reaches guest memory only through uaccess.h" "$out"
fi

mkdir -p "$T_TMP/bad"
cat >"$T_TMP/bad/sys_bad.c" <<'C'
long sys_a(struct vcpu *c, const uint64_t *a)
{
	struct msghdr *m = (struct msghdr *)(c->vm->ram + a[1]);
	return m->msg_iovlen;
}
long sys_b(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], 8);
	uint64_t v;
	memcpy(&v, p, 8);
	const char *s = (const char *)p;
	void *laundered = p;
	return v + s[0] + (long)laundered;
}
long sys_c(struct vcpu *c, const uint64_t *a)
{
	int *w;
	GUEST_PTR(w, c->vm, a[0], 4);
	return *w;
}
C
out=$(python3 "$CHECK" "$T_TMP/bad" 2>&1)
rc=$?
want=("sys_bad.c:3: a host address inside guest RAM" "sys_bad.c:11: guest bytes 'p' handed to"
	"sys_bad.c:12: guest bytes 'p' cast" "sys_bad.c:13: guest bytes 'p' laundered"
	"sys_bad.c:19: the old in-place")
missing=""
for w in "${want[@]}"; do grep -qF "$w" <<<"$out" || missing+=" [$w]"; done
if ((rc == 1)) && [[ -z $missing ]]; then
	t_ok "the check finds each kind of guest-memory access outside uaccess.h"
else
	t_fail "the check finds each kind of violation" "exit $rc, missing:$missing; output: $out"
fi
t_done
