/*
 * banner.c - turns offences into bans and bans into firewall rules,
 * events, log lines and state.
 *
 * Invariant: a ban is in the state file before this returns to the
 * capture loop, and the firewall rule is committed first, so a crash
 * after a ban never forgets it (the next start restores it from the
 * state file and reconciles the chain).
 */
#include <stdio.h>
#include <string.h>

#include "banner.h"
#include "json.h"

static void
event(struct banner *b, const char *what, const struct ban *ban,
    wb_usec ts)
{
	char a[WB_ADDR_STRLEN];

	if (b->events != NULL) {
		fprintf(b->events, "{\"event\":\"%s\",\"ts\":", what);
		json_ts(b->events, ts);
		fprintf(b->events, ",\"client\":\"%s\"",
		    wb_addr_str(&ban->addr, a));
		if (strcmp(what, "ban") == 0) {
			fputs(",\"rule\":", b->events);
			json_str(b->events, ban->rule, strlen(ban->rule));
			fprintf(b->events, ",\"score\":%d,\"duration\":%lld,"
			    "\"count\":%u", ban->score, (long long)
			    ((ban->expiry - ban->start) / WB_USEC_PER_SEC),
			    ban->count);
		}
		fputs("}\n", b->events);
		fflush(b->events);
	}
	if (b->log) {
		if (strcmp(what, "ban") == 0)
			fprintf(stderr, "wireban: ban %s (%s, score %d) for "
			    "%llds, ban #%u\n", wb_addr_str(&ban->addr, a),
			    ban->rule, ban->score, (long long)
			    ((ban->expiry - ban->start) / WB_USEC_PER_SEC),
			    ban->count);
		else
			fprintf(stderr, "wireban: unban %s (%s)\n",
			    wb_addr_str(&ban->addr, a), ban->rule);
	}
}

static void
save(struct banner *b)
{
	if (b->state_path != NULL &&
	    ban_state_save(b->policy, b->state_path) < 0)
		b->errors++;
}

/* Called by the policy for every ban that starts. */
static void
on_ban(void *arg, const struct ban *ban)
{
	struct banner *b = arg;

	/*
	 * Cut what it holds open first: it must not go on inside a session.
	 * The reset toward the server carries the client's address, so once
	 * the DROP rule is in it would be dropped like the client itself.
	 */
	if (b->kill != NULL)
		b->kill(b->kill_arg, &ban->addr);
	/*
	 * In the state file before the rule is in the kernel, so a kill -9
	 * between the two cannot lose it (the restart reconciles the chain
	 * with the file); made durable after, to keep the fsync out of the
	 * time to ban.
	 */
	if (b->state_path != NULL &&
	    ban_state_save_nosync(b->policy, b->state_path) < 0)
		b->errors++;
	if (b->backend->ban(ban) < 0 || b->backend->commit() < 0)
		b->errors++;
	if (b->state_path != NULL && ban_state_sync(b->state_path) < 0)
		b->errors++;
	event(b, "ban", ban, ban->start);
}

static void
on_unban(void *arg, const struct ban *ban)
{
	struct banner *b = arg;

	if (b->backend->unban(ban) < 0)
		b->errors++;
	/* At its expiry when it ran out, else now (lifted early). */
	event(b, "unban", ban, ban->expiry < b->now ? ban->expiry : b->now);
}

/* The policy's ignore list from s (ignoreip and configured servers). */
static int
set_ignores(struct banner *b, const struct settings *s, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < s->nignore; i++)
		if (ban_policy_ignore(b->policy, s->ignoreip[i]) < 0) {
			snprintf(err, errlen, "policy.ignoreip: '%s'",
			    s->ignoreip[i]);
			return -1;
		}
	if (s->ignoreself)
		for (i = 0; i < s->capture.nservers; i++)
			banner_add_self(b, &s->capture.servers[i],
			    s->capture.servers[i].family == AF_INET ? 32 : 128);
	return 0;
}

int
banner_reload(struct banner *b, const struct settings *s, char *err,
    size_t errlen)
{
	struct ban_policy *old = b->policy;
	bool oldself = b->ignoreself;

	if (b->state_path == NULL || ban_state_save(old, b->state_path) < 0) {
		snprintf(err, errlen, "the bans could not be saved");
		return -1;
	}
	if ((b->policy = ban_policy_new(&s->policy, err, errlen)) == NULL) {
		b->policy = old;
		return -1;
	}
	b->ignoreself = s->ignoreself;
	if (set_ignores(b, s, err, errlen) < 0 ||
	    ban_state_load(b->policy, b->state_path, NULL) < 0) {
		ban_policy_free(b->policy);
		b->policy = old;
		b->ignoreself = oldself;
		if (err[0] == '\0')
			snprintf(err, errlen, "the bans could not be read back");
		return -1;
	}
	ban_policy_set_hook(b->policy, on_ban, b);
	ban_policy_free(old);
	return 0;
}

int
banner_init(struct banner *b, const struct settings *s, const char *backend,
    const char *state_path, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->ignoreself = s->ignoreself;
	b->state_path = state_path;
	if ((b->policy = ban_policy_new(&s->policy, err, errlen)) == NULL ||
	    set_ignores(b, s, err, errlen) < 0)
		return -1;
	if (backend == NULL)
		backend = s->fw.backend;
	if ((b->backend = ban_backend_find(backend)) == NULL) {
		snprintf(err, errlen, "firewall.backend: no backend '%s'",
		    backend);
		return -1;
	}
	if (b->backend->open(&s->fw) < 0) {
		snprintf(err, errlen, "firewall backend %s could not be set "
		    "up (see the line above)", backend);
		return -1;
	}
	b->open = true;
	ban_policy_set_hook(b->policy, on_ban, b);
	return 0;
}

void
banner_fini(struct banner *b)
{
	if (b->open)
		b->backend->close();
	b->open = false;
	ban_policy_free(b->policy);
	b->policy = NULL;
}

int
banner_restore(struct banner *b, wb_usec now)
{
	struct ban_state_stats st;

	b->now = now;
	if (b->state_path == NULL)
		return 0;
	if (ban_state_load(b->policy, b->state_path, &st) < 0)
		return -1;
	if (ban_reconcile(b->policy, b->backend, now, on_unban, b) < 0)
		return -1;
	save(b);
	if (b->log && (st.active > 0 || st.bad > 0))
		fprintf(stderr, "wireban: %s: %zu bans restored, %zu history, "
		    "%zu bad lines skipped\n", b->state_path, st.active,
		    st.history, st.bad);
	return 0;
}

void
banner_add_self(struct banner *b, const struct wb_addr *a, int bits)
{
	if (b->ignoreself && !ban_policy_is_ignored(b->policy, a))
		(void)ban_policy_ignore_net(b->policy, a, bits);
}

void
banner_offence(void *arg, const struct offence *o)
{
	struct banner *b = arg;

	/* The side that accepted the connection is ours. */
	if (o->conn != NULL)
		banner_add_self(b, &o->conn->server,
		    o->conn->server.family == AF_INET ? 32 : 128);
	if (ban_policy_offence(b->policy, &o->client, o->rule, o->weight,
	    o->ts, NULL) < 0)
		b->errors++;
}

void
banner_tick(void *arg, wb_usec now)
{
	struct banner *b = arg;
	wb_usec next;

	if (ban_policy_next_expiry(b->policy, &next) && next <= now)
		banner_expire(b, now);
}

void
banner_expire(struct banner *b, wb_usec now)
{
	b->now = now;
	if (ban_policy_expire(b->policy, now, on_unban, b) > 0) {
		if (b->backend->commit() < 0)
			b->errors++;
		save(b);
	}
}

int
banner_ban(struct banner *b, const struct wb_addr *a, wb_usec dur,
    wb_usec now, char *err, size_t errlen)
{
	struct ban ban;
	int rc;

	b->now = now;
	if (ban_policy_is_ignored(b->policy, a)) {
		snprintf(err, errlen, "address is in ignoreip or is this "
		    "host's own (ignoreself)");
		return -1;
	}
	rc = ban_policy_ban(b->policy, a, "manual", dur, now, &ban);
	if (rc < 0) {
		snprintf(err, errlen, "could not ban (see the log)");
		return -1;
	}
	if (rc == 0) {
		/* Already banned: a new duration moved its expiry. */
		save(b);
	}
	return rc;
}

int
banner_unban(struct banner *b, const struct wb_addr *a, wb_usec now)
{
	struct ban ban;
	int rc;

	b->now = now;
	rc = ban_policy_unban(b->policy, a, now, &ban);

	if (rc == 1) {
		on_unban(b, &ban);
		if (b->backend->commit() < 0)
			b->errors++;
		save(b);
	}
	return rc;
}
