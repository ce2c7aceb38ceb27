/*
 * jail.c - offences in, bans out: the policy decides on the capture
 * thread; each ban is at once said (event, log line), the banned
 * prefix's open sessions are reset, and the ban is handed to the
 * enforcer, which journals it and commits it to the kernel on its own
 * thread (bans/enforcer.c). Nothing here waits for the disk or the
 * firewall once the capture runs.
 *
 * "Self" (ignoreself) is what the configuration says (capture.servers)
 * and, for watch, this host's interface addresses: never what a peer
 * does. An offence in a session whose client is one of our own
 * addresses (mail this host sends out, answered with a 550 by the
 * other side) counts against nobody.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "jail.h"
#include "log.h"

#define QUEUE_OPS	65536
#define BATCH_OPS	8192
#define FSYNC_DELAY	(50 * 1000)	/* us */

/* replay --apply: the prefixes banned during the replay. */
struct held {
	struct wb_addr	 addr;
	uint8_t		 bits;
};
static struct held	*held;
static size_t		 nheld, heldcap;

static wb_usec
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
say(struct jail *j, const char *what, const struct ban *b)
{
	char a[WB_PREFIX_STRLEN];

	if (!j->log)
		return;
	wb_prefix_str(&b->addr, b->bits, a);
	if (strcmp(what, "ban") == 0)
		logmsg(LOG_NOTICE, "ban %s (%s, score %d) for %llds, "
		    "ban #%u", a, b->rule, b->score, (long long)
		    ((b->expiry - b->start) / WB_USEC_PER_SEC), b->count);
	else
		logmsg(LOG_NOTICE, "unban %s (%s)", a, b->rule);
}

static void
hold(const struct ban *b)
{
	struct held *n;

	if (nheld == heldcap) {
		size_t cap = heldcap ? heldcap * 2 : 256;

		if ((n = realloc(held, cap * sizeof(*n))) == NULL)
			return;		/* the ban stays in the report */
		held = n;
		heldcap = cap;
	}
	held[nheld].addr = b->addr;
	held[nheld].bits = b->bits;
	nheld++;
}

/* The policy's hook: every ban that starts. */
static void
on_ban(void *arg, const struct ban *ban)
{
	struct jail *j = arg;

	/*
	 * Cut what it holds open first: it must not go on inside a session.
	 * The reset toward the server carries the client's address, so once
	 * the ban is in the kernel it would be dropped like the client.
	 */
	if (j->kill != NULL)
		j->kill(j->kill_arg, ban);
	if (j->ev != NULL)
		events_ban(j->ev, ban, ban->start);
	say(j, "ban", ban);
	if (j->hold)
		hold(ban);
	else if (j->enf != NULL)
		(void)ban_enforcer_ban(j->enf, ban);
}

/* Every ban that ends (its time up, or lifted by hand). */
static void
on_unban(void *arg, const struct ban *ban)
{
	struct jail *j = arg;
	/* At its expiry when it ran out, else now (lifted early). */
	wb_usec when = ban->expiry < j->now ? ban->expiry : j->now;

	if (j->ev != NULL)
		events_unban(j->ev, ban, when);
	say(j, "unban", ban);
	if (!j->hold && j->enf != NULL)
		(void)ban_enforcer_unban(j->enf, ban, when);
}

/* Before the enforcer runs: a restored ban found expired. */
static void
on_restore_unban(void *arg, const struct ban *ban)
{
	struct jail *j = arg;
	char rec[BAN_STATE_REC_MAX];
	size_t n;

	if (j->ev != NULL)
		events_unban(j->ev, ban, ban->expiry);
	if (j->state != NULL) {
		n = ban_state_fmt_unban(rec, ban, ban->expiry);
		if (ban_state_append(j->state, rec, n, 1) != 0)
			j->errors++;
	}
}

static int
set_policy(struct jail *j, struct ban_policy *p, const struct settings *s,
    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < s->nignore; i++)
		if (ban_policy_ignore(p, s->ignoreip[i]) < 0) {
			snprintf(err, errlen, "policy.ignoreip: '%s'",
			    s->ignoreip[i]);
			return -1;
		}
	if (j->ignoreself && ban_policy_set_self(p, j->self, j->self_bits,
	    j->nself) < 0) {
		snprintf(err, errlen, "ignoreself: out of memory");
		return -1;
	}
	ban_policy_set_hook(p, on_ban, j);
	return 0;
}

/* The configured servers are self (with ignoreself). */
static int
conf_self(struct jail *j, const struct settings *s)
{
	size_t i, n = s->capture.nservers;

	free(j->self);
	free(j->self_bits);
	j->self = calloc(n + 1, sizeof(*j->self));
	j->self_bits = calloc(n + 1, sizeof(*j->self_bits));
	if (j->self == NULL || j->self_bits == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		j->self[i] = s->capture.servers[i];
		j->self_bits[i] = wb_addr_bits(&s->capture.servers[i]);
	}
	j->nself = j->nconf = n;
	return 0;
}

int
jail_set_host(struct jail *j, const struct wb_addr *a, const int *bits,
    size_t n)
{
	struct wb_addr *ns;
	int *nb;
	size_t i;

	ns = realloc(j->self, (j->nconf + n + 1) * sizeof(*ns));
	if (ns == NULL)
		return -1;
	j->self = ns;
	nb = realloc(j->self_bits, (j->nconf + n + 1) * sizeof(*nb));
	if (nb == NULL)
		return -1;
	j->self_bits = nb;
	for (i = 0; i < n; i++) {
		j->self[j->nconf + i] = a[i];
		j->self_bits[j->nconf + i] = bits[i];
	}
	j->nself = j->nconf + n;
	if (!j->ignoreself)
		return 0;
	return ban_policy_set_self(j->policy, j->self, j->self_bits, j->nself);
}

/* "nftables" or "nftables,crowdsec": each a backend, none twice. */
static int
find_backends(struct jail *j, const char *spec, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		const struct ban_backend *b = ban_backend_find(tok);

		if (b == NULL || j->nbackends == BAN_BACKENDS_MAX) {
			snprintf(err, errlen, "firewall.backend: %s '%s'",
			    b == NULL ? "no backend" : "too many backends at",
			    tok);
			return -1;
		}
		for (i = 0; i < j->nbackends; i++)
			if (j->backends[i] == b) {
				snprintf(err, errlen, "firewall.backend: '%s' "
				    "given twice", tok);
				return -1;
			}
		j->backends[j->nbackends++] = b;
	}
	if (j->nbackends == 0) {
		snprintf(err, errlen, "firewall.backend: none given");
		return -1;
	}
	j->backend = j->backends[0];
	return 0;
}

int
jail_init(struct jail *j, const struct settings *s, const char *backend,
    const char *state_path, wb_usec now, char *err, size_t errlen)
{
	struct ban_enforcer_config ec;
	struct ban_state_stats st;
	wb_usec t0;
	size_t i;

	memset(j, 0, sizeof(*j));
	j->ignoreself = s->ignoreself;
	j->now = now;
	j->prefix4 = s->policy.prefix4;
	j->prefix6 = s->policy.prefix6;
	j->bantime_max = s->policy.bantime_max;
	if (conf_self(j, s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((j->policy = ban_policy_new(&s->policy, err, errlen)) == NULL ||
	    set_policy(j, j->policy, s, err, errlen) < 0)
		return -1;
	if (backend == NULL)
		backend = s->fw.backend;
	if (find_backends(j, backend, err, errlen) < 0)
		return -1;
	if (state_path != NULL &&
	    (j->state = ban_state_open(state_path, j->policy, &st, err,
	    errlen)) == NULL)
		return -1;
	for (i = 0; i < j->nbackends; i++, j->nopen++)
		if (j->backends[i]->open(&s->fw) < 0) {
			snprintf(err, errlen, "firewall backend %s could not be "
			    "set up (see the line above)", j->backends[i]->name);
			return -1;
		}
	t0 = mono_us();
	if (state_path != NULL) {
		for (i = 0; i < j->nbackends; i++)
			if (ban_reconcile(j->policy, j->backends[i], now,
			    i == 0 ? on_restore_unban : NULL, j) < 0)
				j->errors++;
		if (st.active + st.journal > 0 || st.bad > 0)
			logmsg(LOG_NOTICE, "%s: %zu bans and %zu history "
			    "in the snapshot, %zu journal records, %zu bad "
			    "lines skipped", state_path, st.active,
			    st.history, st.journal, st.bad);
	}
	j->restore_ms = (mono_us() - t0) / 1000;
	memset(&ec, 0, sizeof(ec));
	for (i = 0; i < j->nbackends; i++)
		ec.backends[i] = j->backends[i];
	ec.nbackends = j->nbackends;
	ec.state = j->state;
	ec.queue = QUEUE_OPS;
	ec.batch = BATCH_OPS;
	ec.fsync_delay = FSYNC_DELAY;
	if ((j->enf = ban_enforcer_start(&ec, err, errlen)) == NULL)
		return -1;
	return 0;
}

void
jail_fini(struct jail *j)
{
	ban_enforcer_stop(j->enf, j->policy);
	j->enf = NULL;
	while (j->nopen > 0)
		j->backends[--j->nopen]->close();
	ban_state_close(j->state);
	j->state = NULL;
	ban_policy_free(j->policy);
	j->policy = NULL;
	free(j->self);
	free(j->self_bits);
	j->self = NULL;
	j->self_bits = NULL;
	free(held);
	held = NULL;
	nheld = heldcap = 0;
}

struct transfer {
	struct ban_policy *to;
	bool		 active;
	size_t		 lost;
};

static void
transfer_one(void *arg, const struct ban *b)
{
	struct transfer *t = arg;

	if (ban_policy_restore(t->to, b, t->active) != 0)
		t->lost++;
}

int
jail_reload(struct jail *j, const struct settings *s, bool *restart,
    char *err, size_t errlen)
{
	struct ban_policy_config pc = s->policy;
	struct ban_policy *next;
	struct transfer t = { NULL, false, 0 };
	bool oldself = j->ignoreself;

	/* What the kernel's sets are keyed on stays until a restart. */
	*restart = pc.prefix4 != j->prefix4 || pc.prefix6 != j->prefix6;
	pc.prefix4 = j->prefix4;
	pc.prefix6 = j->prefix6;
	if ((next = ban_policy_new(&pc, err, errlen)) == NULL)
		return -1;
	j->bantime_max = pc.bantime_max;
	j->ignoreself = s->ignoreself;
	if (set_policy(j, next, s, err, errlen) < 0) {
		ban_policy_free(next);
		j->ignoreself = oldself;
		return -1;
	}
	t.to = next;
	t.active = true;
	(void)ban_policy_foreach(j->policy, BAN_ACTIVE | BAN_UNSORTED,
	    transfer_one, &t);
	t.active = false;
	(void)ban_policy_foreach(j->policy, BAN_HISTORY | BAN_UNSORTED,
	    transfer_one, &t);
	if (t.lost > 0)
		logmsg(LOG_WARNING, "reload: %zu bans or history entries "
		    "not carried over (now in ignoreip, or past max_tracked); "
		    "the kernel lifts them at their timeout\n", t.lost);
	ban_policy_free(j->policy);
	j->policy = next;
	return 0;
}

void
jail_offence(void *arg, const struct engine_offence *o)
{
	struct jail *j = arg;

	j->now = o->ts;
	if (ban_policy_is_self(j->policy, &o->client)) {
		/* Our own outbound mail, refused by the other side. */
		j->outbound++;
		return;
	}
	if (ban_policy_offence(j->policy, &o->client, o->rule, o->weight,
	    o->ts, NULL) < 0)
		j->errors++;
}

void
jail_expire(struct jail *j, wb_usec now)
{
	j->now = now;
	(void)ban_policy_expire(j->policy, now, on_unban, j);
}

void
jail_tick(void *arg, wb_usec now)
{
	struct jail *j = arg;
	wb_usec next;

	if (now > j->now)
		j->now = now;
	if (ban_policy_next_expiry(j->policy, &next) && next <= now)
		jail_expire(j, now);
}

void
jail_poll(struct jail *j)
{
	if (j->enf != NULL)
		ban_enforcer_poll(j->enf, j->policy);
}

int
jail_ban(struct jail *j, const struct wb_addr *a, int bits, wb_usec dur,
    bool force, wb_usec now, bool *capped, char *err, size_t errlen)
{
	char buf[WB_PREFIX_STRLEN];
	const char *special;
	struct wb_addr net;
	struct ban ban;
	int rc;

	j->now = now;
	*capped = false;
	if (bits < 0)
		bits = wb_addr_bits(a);
	wb_addr_mask(&net, a, bits);
	if ((special = ban_addr_special(&net, bits)) != NULL) {
		snprintf(err, errlen, "%s is never banned (it overlaps %s)",
		    wb_prefix_str(&net, bits, buf), special);
		return -1;
	}
	if (ban_policy_is_ignored(j->policy, a)) {
		snprintf(err, errlen, "address is in ignoreip or is this "
		    "host's own (ignoreself)");
		return -1;
	}
	if (dur > j->bantime_max && !force) {
		dur = j->bantime_max;
		*capped = true;
	}
	rc = ban_policy_ban(j->policy, a, bits, "manual", dur, now, &ban);
	if (rc < 0) {
		snprintf(err, errlen, "could not ban (see the log)");
		return -1;
	}
	if (rc == 0 && !j->hold && j->enf != NULL)
		/* Already banned: its new expiry goes to the kernel too. */
		(void)ban_enforcer_ban(j->enf, &ban);
	return rc;
}

int
jail_unban(struct jail *j, const struct wb_addr *a, int bits, wb_usec now,
    struct ban *out)
{
	j->now = now;
	if (ban_policy_unban(j->policy, a, bits, now, out) != 1)
		return 0;
	on_unban(j, out);
	return 1;
}

static int
held_cmp(const void *x, const void *y)
{
	const struct held *a = x, *b = y;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c != 0 ? c : (int)a->bits - (int)b->bits;
}

long
jail_apply_held(struct jail *j, wb_usec end, wb_usec now)
{
	struct ban b;
	long n = 0;
	size_t i;

	/* A prefix banned twice in the capture is handed over once. */
	if (nheld > 1)
		qsort(held, nheld, sizeof(*held), held_cmp);
	for (i = 0; i < nheld; i++) {
		if (i > 0 && held_cmp(&held[i - 1], &held[i]) == 0)
			continue;
		if (!ban_policy_get(j->policy, &held[i].addr, &b) ||
		    b.bits != held[i].bits ||
		    !wb_addr_eq(&b.addr, &held[i].addr) || b.expiry <= end)
			continue;
		b.expiry = now + (b.expiry - end);
		b.start = now;
		if (ban_enforcer_ban(j->enf, &b) == 0)
			n++;
	}
	nheld = 0;
	if (ban_enforcer_drain(j->enf, j->policy, 60000) < 0)
		return -1;
	return n;
}
