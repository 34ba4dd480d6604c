/* workloads/mail/load_plan.c: the user model's decisions for vcons-mail-load, as pure functions of
 * the profile and a random generator (so a seeded generator gives the same mix, and the unit tests
 * check the shares): what a session does (an idle one: watching with IDLE or polling with NOOP),
 * which new messages are read and what becomes of them, how many folders a user keeps and which
 * one a message is filed in, the open-loop gaps, and the UID sets the commands carry. */
#include "workloads/mail/load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool pct(struct rng *r, double p)
{
	return rng_uniform(r) * 100 < p;
}

double plan_lognormal(struct rng *r, double median, double sigma, double lo, double hi)
{
	/* Box-Muller: one standard normal deviate */
	double u1 = rng_uniform(r), u2 = rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
	double v = median * exp(sigma * z);
	return v < lo ? lo : v > hi ? hi : v;
}

int plan_poisson(struct rng *r, double mean)
{
	/* Knuth: count uniforms until their product falls below e^-mean */
	double limit = exp(-(mean > 50 ? 50 : mean)), prod = rng_uniform(r);
	int k = 0;
	while (prod > limit) {
		k++;
		prod *= rng_uniform(r);
	}
	return k;
}

void plan_session(struct rng *r, const struct mail_profile *p, struct session_plan *out)
{
	*out = (struct session_plan){ 0 };
	if (pct(r, p->idle_session_pct)) {
		out->idle = true;
		out->push = pct(r, p->imap_idle_pct);
		return;
	}
	out->search = pct(r, p->search_pct);
	out->search_kind = (enum search_kind)rng_range(r, 0, SEARCH_KINDS - 1);
	out->sends = plan_poisson(r, p->send_mean);
	out->visit = pct(r, p->visit_pct);
}

bool plan_read(struct rng *r, const struct mail_profile *p)
{
	return pct(r, p->read_pct);
}

bool plan_attachment(struct rng *r, const struct mail_profile *p)
{
	return pct(r, p->attachment_pct);
}

enum fate plan_fate(struct rng *r, const struct mail_profile *p)
{
	double u = rng_uniform(r) * 100;
	if (u < p->move_pct)
		return FATE_MOVE;
	if (u < p->move_pct + p->trash_pct)
		return FATE_TRASH;
	if (u < p->move_pct + p->trash_pct + p->delete_pct)
		return FATE_DELETE;
	return FATE_KEEP;
}

int plan_folder_count(struct rng *r, const struct mail_profile *p)
{
	return (int)lround(
	    plan_lognormal(r, p->folders_median, p->folders_sigma, 0, p->folders_max));
}

int plan_folder_pick(struct rng *r, int n)
{
	double h = 0; /* the n-th harmonic number: the weights 1/1 .. 1/n add up to it */
	for (int k = 1; k <= n; k++)
		h += 1.0 / k;
	double u = rng_uniform(r) * h;
	for (int k = 1; k <= n; k++) {
		u -= 1.0 / k;
		if (u < 0)
			return k - 1;
	}
	return n - 1;
}

void plan_gap_prior(const struct mail_profile *p, double *sum, uint64_t *n)
{
	double idle = p->idle_session_pct / 100, push = p->imap_idle_pct / 100;
	double w_work = (PRIOR_WORK_CMDS - 1) * p->think_weight + p->session_gap_weight;
	/* login, list, select, the watches, logout: a polling session waits a watch before each
	 * NOOP and after the last; an IDLE one thinks before its first IDLE and watches after each
	 */
	double w_poll =
	    2 * p->think_weight + (p->idle_polls + 1) * p->idle_poll_weight + p->session_gap_weight;
	double w_push =
	    3 * p->think_weight + p->idle_polls * p->idle_poll_weight + p->session_gap_weight;
	double w_idle = push * w_push + (1 - push) * w_poll;
	*sum = PRIOR_SESSIONS * (idle * w_idle + (1 - idle) * w_work);
	*n = (uint64_t)lround(PRIOR_SESSIONS *
	                      (idle * (p->idle_polls + 4) + (1 - idle) * PRIOR_WORK_CMDS));
}

double plan_gap_mean(double mean_gap_s, double weight, double sum, uint64_t n)
{
	double mean_w = n ? sum / (double)n : 0;
	return mean_w > 0 ? mean_gap_s * weight / mean_w : mean_gap_s;
}

size_t plan_uid_set(const uint32_t *uids, size_t n, int max_ranges, char *dst, size_t cap)
{
	size_t i = 0, o = 0;
	if (cap)
		dst[0] = 0;
	for (int ranges = 0; i < n && ranges < max_ranges; ranges++) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		char piece[32];
		int len = j > i ? snprintf(piece, sizeof(piece), "%s%u:%u", o ? "," : "", uids[i],
		                           uids[j])
		                : snprintf(piece, sizeof(piece), "%s%u", o ? "," : "", uids[i]);
		if (o + (size_t)len + 1 > cap)
			break;
		memcpy(dst + o, piece, (size_t)len + 1);
		o += (size_t)len;
		i = j + 1;
	}
	return i;
}
