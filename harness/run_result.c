/* harness/run_result.c: the result document of a run (schema vcons-result/1, results/SCHEMA.md):
 * configuration, rules, system, timing, every VM with its per-interval figures (metrics.h). The
 * verdict and scores are added by verdict.h from these figures alone. */
#include "harness/metrics.h"
#include "model/result.h"
#include "model/rules.h"
#include "model/verdict.h"
#include "harness/run.h"
#include "harness/sysinfo.h"
#include "lib/json.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static json_t *profile_json(const struct csu_profile *p)
{
	json_t *vms = json_object();
	for (int i = 0; i < NROLES; i++) {
		const struct vm_profile *v = &p->vm[i];
		json_t *o = json_pack("{s:i,s:I,s:I,s:f,s:i}", "vcpus", v->vcpus, "memory_bytes",
		                      (json_int_t)v->memory_bytes, "dataset",
		                      (json_int_t)v->dataset, "rate", v->rate, "users", v->users);
		if (v->nprofile) { /* as loaded: the numbers as the file wrote them */
			json_t *prof = json_object();
			for (int k = 0; k < v->nprofile; k++)
				json_object_set_new(prof, v->profile[k].key,
				                    json_real(strtod(v->profile[k].value, NULL)));
			json_object_set_new(o, "profile", prof);
		}
		json_object_set_new(vms, role_name((enum role)i), o);
	}
	return json_pack("{s:s,s:s,s:o}", "name", p->name, "description", p->description, "vms",
	                 vms);
}

static json_t *vm_json(const struct run *r, const struct run_vm *v)
{
	const struct vm_profile *p = &r->profile.vm[v->plan.role];
	char cmd[4096], how[96], log[128];
	plan__describe(&v->plan.server, cmd, sizeof(cmd));
	snprintf(log, sizeof(log), "logs/%s.log", v->plan.name);
	json_t *o =
	    json_pack("{s:i,s:s,s:s,s:s,s:i,s:I,s:f,s:i,s:s,s:b,s:s,s:s,s:I,s:o}", "csu",
	              v->plan.csu, "role", role_name(v->plan.role), "name", v->plan.name, "addr",
	              v->plan.addr, "vcpus", p->vcpus, "memory_bytes", (json_int_t)p->memory_bytes,
	              "target_rate", p->rate, "users", p->users, "command", cmd, "alive",
	              v->started && !v->died, "ended", proc__describe(&v->vm, how, sizeof(how)),
	              "log", log, "bad_lines", (json_int_t)v->data.bad_lines, "intervals",
	              metrics__intervals(&v->data, r->opts.platform));
	if (v->data.first_load_ns)
		json_object_set_new(o, "first_load_s",
		                    json_real((double)(v->data.first_load_ns - r->t_start) / 1e9));
	if (v->plan.generator.argc) {
		plan__describe(&v->plan.generator, cmd, sizeof(cmd));
		snprintf(log, sizeof(log), "logs/%s-load.log", v->plan.name);
		json_object_set_new(o, "generator_command", json_string(cmd));
		json_object_set_new(o, "generator_log", json_string(log));
		if (v->data.gen_summary) { /* its figures; the histograms are in the intervals */
			json_t *sum = json_deep_copy(v->data.gen_summary);
			json_object_del(sum, "hist");
			json_object_set_new(o, "generator_summary", sum);
		}
	}
	if (v->data.extra)
		json_object_set_new(o, "last_report", json_incref(v->data.extra));
	json_t *po = metrics__per_op(&v->data);
	if (po)
		json_object_set_new(o, "hv_per_op", po);
	if (r->opts.platform->record_vm)
		r->opts.platform->record_vm(o, v->plan.stats);
	return o;
}

/* When the load reached every VM: the latest first sign of load among them. */
static json_t *timing_json(const struct run *r)
{
	int64_t all_loaded = 0;
	int complete = r->nvms > 0;
	for (int i = 0; i < r->nvms; i++) {
		int64_t t = r->vm[i].data.first_load_ns;
		complete &= t != 0;
		if (t > all_loaded)
			all_loaded = t;
	}
	json_t *o = json_pack("{s:f,s:f}", "load_s", r->load_s, "total_s",
	                      (double)(r->t_end - r->t_start) / 1e9);
	if (r->t_vms)
		json_object_set_new(o, "provision_s",
		                    json_real((double)(r->t_vms - r->t_start) / 1e9));
	if (complete && r->t_vms) {
		json_object_set_new(o, "vm_start_to_first_load_all_s",
		                    json_real((double)(all_loaded - r->t_vms) / 1e9));
		json_object_set_new(o, "run_start_to_first_load_all_s",
		                    json_real((double)(all_loaded - r->t_start) / 1e9));
	}
	return o;
}

static json_t *harness_json(const struct run *r)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double wall = (double)(r->t_end - r->t_start) / 1e9;
	return json_pack("{s:f,s:f}", "cpu_s", cpu, "cpu_pct_of_one_core",
	                 wall > 0 ? 100 * cpu / wall : 0);
}

/* Each move with the QoS of its VM's interval ("ok" or the first violation; busy workloads). */
static json_t *migrations_json(const struct run *r, json_t *vms)
{
	json_t *moves = infra__result(r), *m;
	size_t i;
	json_array_foreach(moves, i, m)
	{
		const struct move_rec *rec = &r->infra.recs[i];
		const struct run_vm *v = &r->vm[rec->vm];
		json_int_t k = jget_int(m, "interval", -1);
		json_t *iv = json_array_get(
		    json_object_get(json_array_get(vms, (size_t)rec->vm), "intervals"), (size_t)k);
		char why[256] = "ok";
		if (k < 0 || v->plan.role >= NBUSY || !iv)
			continue;
		if (json_object_get(iv, "missing"))
			snprintf(why, sizeof(why), "%s", jget_str(iv, "missing", "no figure"));
		else
			verdict__qos(iv, &r->rules, v->plan.role, r->profile.vm[v->plan.role].rate,
			             why, sizeof(why));
		json_object_set_new(m, "interval_qos", json_string(why));
	}
	return moves;
}

json_t *run__result(struct run *r)
{
	char started[64];
	time_t now = time(NULL) - (time_t)((r->t_end - r->t_start) / 1000000000);
	struct tm tm;
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_t *vms = json_array();
	for (int i = 0; i < r->nvms; i++)
		json_array_append_new(vms, vm_json(r, &r->vm[i]));
	json_t *accel = json_object_get(json_array_get(vms, 0), "accel");
	json_t *res = json_pack(
	    "{s:s,s:s,s:s,s:s,s:O,s:s,s:f,s:i,s:{s:s,s:o,s:s},s:o,s:o,s:o,s:o,s:o}", "schema",
	    RESULT_SCHEMA, "run_id", r->id, "started_at", started, "status", r->status, "failures",
	    r->failures, "platform", r->opts.platform->name, "clock_scale", r->opts.clock_scale,
	    "csus", r->opts.csus, "config", "csu_file", r->opts.csu_path, "csu",
	    profile_json(&r->profile), "rules_file", r->opts.rules_path, "rules",
	    rules__to_json(&r->rules), "system", sysinfo__collect(), "timing", timing_json(r),
	    "harness", harness_json(r), "vms", vms);
	if (res && json_is_string(accel)) /* qemu: the acceleration of its first VM, for reports */
		json_object_set(res, "accel", accel);
	if (res && r->rules.infra.method != INFRA_NONE)
		json_object_set_new(res, "migrations", migrations_json(r, vms));
	if (res && (r->opts.from_snapshots || r->opts.save_snapshots)) {
		json_t *snaps = json_object(); /* only the one given: the schema has no nulls */
		if (r->opts.from_snapshots)
			json_object_set_new(snaps, "from", json_string(r->opts.from_snapshots));
		if (r->opts.save_snapshots)
			json_object_set_new(snaps, "saved_to", json_string(r->opts.save_snapshots));
		json_object_set_new(res, "snapshots", snaps);
	}
	return res;
}
