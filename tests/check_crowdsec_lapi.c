/*
 * check_crowdsec_lapi.c - the crowdsec backend's spool (torn record,
 * replay, compaction) and the backend itself against a fake LAPI
 * (tests/cs_fake_lapi.c): login and token reuse, a 401 mid-way, a LAPI
 * down then up, a wrong password, hostile and oversized replies,
 * batches, unbans, the password file, a restart that pushes nothing
 * twice, a worker thread without privilege.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "../bans/fw_crowdsec.h"
#include "bans_fixture.h"
#include "cs_fake_lapi.h"
#include "cs_fixture.h"

/* ---- the spool ------------------------------------------------------------ */

static void
spool_put(struct cs_spool *s, enum cs_rec k, const struct ban *b,
    wb_usec when)
{
	char rec[CS_REC_MAX];
	size_t n = ban_cs_rec_format(rec, k, b, when);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ban_cs_spool_append(s, rec, n, 1), 0);
}

START_TEST(test_spool_replay)
{
	const char *path = tmp_path("spool");
	struct ban a = pfx("192.0.2.7", 32, T0, S(3600));
	struct ban r = pfx("2001:db8::", 64, T0, S(3600));
	struct ban c = pfx("192.0.2.8", 32, T0, S(3600));
	struct cs_spool s, s2;
	struct cs_spool_stats st;
	struct cs_table t;
	struct stat sb;

	ban_cs_table_init(&t, 100);
	ck_assert_int_eq(ban_cs_spool_open(&s, path, &t, T0, &st), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* A second owner is refused while the first holds it. */
	ck_assert_int_ne(ban_cs_spool_open(&s2, path, &t, T0, &st), 0);
	spool_put(&s, CS_Q_BAN, &a, 0);
	spool_put(&s, CS_Q_BAN, &r, 0);
	spool_put(&s, CS_Q_BAN, &c, 0);
	spool_put(&s, CS_D_BAN, &a, 0);
	spool_put(&s, CS_D_BAN, &c, 0);
	spool_put(&s, CS_Q_UNBAN, &c, T0 + S(10));
	ban_cs_spool_close(&s);
	ban_cs_table_fini(&t);
	/* Replayed: r still to push, a delivered, c to lift. */
	ban_cs_table_init(&t, 100);
	ck_assert_int_eq(ban_cs_spool_open(&s, path, &t, T0 + S(20), &st), 0);
	ck_assert_uint_eq(st.records, 6);
	ck_assert(!st.torn && st.bad == 0);
	ck_assert(entry(&t, "2001:db8::", 64)->want_post);
	ck_assert(entry(&t, "192.0.2.7", 32)->delivered);
	ck_assert(!entry(&t, "192.0.2.7", 32)->want_post);
	ck_assert(entry(&t, "192.0.2.8", 32)->want_del);
	ck_assert_uint_eq(t.posts, 1);
	ck_assert_uint_eq(t.dels, 1);
	ban_cs_spool_close(&s);
	ban_cs_table_fini(&t);
}
END_TEST

START_TEST(test_spool_torn)
{
	const char *path = tmp_path("spool");
	struct ban a = pfx("192.0.2.7", 32, T0, S(3600));
	struct ban b = pfx("192.0.2.8", 32, T0, S(3600));
	char rec[CS_REC_MAX], *text;
	struct cs_spool_stats st;
	struct cs_spool s;
	struct cs_table t;
	size_t n, good;
	FILE *fp;

	fp = fopen(path, "w");
	n = ban_cs_rec_format(rec, CS_Q_BAN, &a, 0);
	fwrite(rec, 1, n, fp);
	/* A damaged record in the middle: skipped, said. */
	n = ban_cs_rec_format(rec, CS_Q_BAN, &b, 0);
	rec[8] ^= 1;
	fwrite(rec, 1, n, fp);
	rec[8] ^= 1;
	fwrite(rec, 1, n, fp);
	good = (size_t)ftell(fp);
	/* The last one torn by a crash: cut off. */
	n = ban_cs_rec_format(rec, CS_D_BAN, &a, 0);
	fwrite(rec, 1, n / 2, fp);
	fclose(fp);
	ban_cs_table_init(&t, 100);
	ck_assert_int_eq(ban_cs_spool_open(&s, path, &t, T0, &st), 0);
	ck_assert_uint_eq(st.records, 2);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert(st.torn);
	ck_assert(logged("checksum mismatch"));
	ck_assert(entry(&t, "192.0.2.7", 32)->want_post);
	ck_assert(entry(&t, "192.0.2.8", 32)->want_post);
	ban_cs_spool_close(&s);
	ban_cs_table_fini(&t);
	text = read_file(path);
	ck_assert_uint_eq(strlen(text), good);
}
END_TEST

START_TEST(test_spool_compact)
{
	const char *path = tmp_path("spool");
	struct cs_spool_stats st;
	struct cs_spool s;
	struct cs_table t;
	struct ban b;
	char addr[32];
	int i, k;

	ban_cs_table_init(&t, 1000);
	ck_assert_int_eq(ban_cs_spool_open(&s, path, &t, T0, &st), 0);
	/* 100 prefixes banned 100 times each, all delivered... */
	for (k = 0; k < 100; k++)
		for (i = 0; i < 100; i++) {
			snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250,
			    i % 250 + 1);
			b = pfx(addr, 32, T0, S(3600 + k));
			spool_put(&s, CS_Q_BAN, &b, 0);
			ban_cs_table_ban(&t, &b, T0);
			spool_put(&s, CS_D_BAN, &b, 0);
			ban_cs_table_posted(&t, ban_cs_table_find(&t, &b.addr,
			    32), b.expiry, 0);
		}
	/* ...and one still pending. */
	b = pfx("192.0.2.1", 32, T0, S(60));
	spool_put(&s, CS_Q_BAN, &b, 0);
	ban_cs_table_ban(&t, &b, T0);
	ck_assert(ban_cs_spool_wants_compaction(&s, &t));
	ck_assert_int_eq(ban_cs_spool_compact(&s, &t, T0), 0);
	ck_assert_uint_eq(s.records, 101);
	ck_assert(!ban_cs_spool_wants_compaction(&s, &t));
	/* Appending goes to the new file, still locked. */
	spool_put(&s, CS_Q_UNBAN, &b, T0 + S(1));
	ban_cs_spool_close(&s);
	ban_cs_table_fini(&t);
	ban_cs_table_init(&t, 1000);
	ck_assert_int_eq(ban_cs_spool_open(&s, path, &t, T0 + S(2), &st), 0);
	ck_assert_uint_eq(st.records, 102);
	ck_assert_uint_eq(t.posts + t.dels, 0);
	b = pfx("10.0.0.50", 32, T0, S(3699));
	ck_assert(entry(&t, "10.0.0.50", 32)->delivered);
	/* What was delivered is not pushed again. */
	ck_assert_int_eq(ban_cs_table_ban(&t, &b, T0 + S(2)), 0);
	ban_cs_spool_close(&s);
	ban_cs_table_fini(&t);
}
END_TEST

/* ---- the backend against a fake LAPI ------------------------------------ */

static char	 url[64];

static void
conf(struct ban_fw_config *c, const char *spool)
{
	ban_fw_config_defaults(c);
	c->cs_url = url;
	c->cs_login = "wb-test";
	c->cs_password = "sekret";
	c->cs_spool = spool;
	c->cs_timeout_ms = 2000;
}

static const struct ban_backend *const be = &ban_backend_crowdsec;

/* Waits for pending to reach 0; the stats then. */
static struct ban_fw_stats
settle(int ms)
{
	struct timespec nap = { 0, 5000000 };
	struct ban_fw_stats st;
	int i;

	for (i = 0; i <= ms / 5; i++) {
		be->stats(&st);
		if (st.pending == 0)
			break;
		nanosleep(&nap, NULL);
	}
	return st;
}

static struct ban
now_ban(const char *addr, int secs)
{
	return pfx(addr, wb_addr_bits(&(struct wb_addr){ .family =
	    strchr(addr, ':') ? AF_INET6 : AF_INET }), ban_cs_wall(),
	    S(secs));
}

START_TEST(test_lapi_deliver)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600), b = now_ban("192.0.2.8", 60);
	struct ban_fw_stats st;
	struct cs_worker_stats ws;
	struct fake_req r;
	char hint[128];
	const char *p;

	ck_assert_int_eq(fake_start(NULL, url, sizeof(url)), 0);
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->hint(hint, sizeof(hint));
	ck_assert_str_eq(hint, "cscli decisions list -a --origin wireban");
	ck_assert_int_eq(be->ban(&a), 0);
	ck_assert_int_eq(be->ban(&b), 0);
	ck_assert_int_eq(be->commit(), 0);
	st = settle(3000);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.delivered, 2);
	/* Login, then one POST of both, with the token and the agent. */
	ck_assert_int_eq(fake_count(), 2);
	fake_get(0, &r);
	ck_assert_str_eq(r.path, "/v1/watchers/login");
	ck_assert_str_eq(r.agent, "wireban/1");
	ck_assert_ptr_nonnull(strstr(r.body, "\"password\":\"sekret\""));
	fake_get(1, &r);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.path, "/v1/alerts");
	ck_assert_str_eq(r.auth, "Bearer aaa.bbb.ccc");
	ck_assert_int_eq(r.alerts, 2);
	/* The time left when posted, in ms: about 60 s. */
	ck_assert_ptr_nonnull(p = strstr(r.body, "\"value\":\"192.0.2.8\","
	    "\"duration\":\""));
	p += strlen("\"value\":\"192.0.2.8\",\"duration\":\"");
	ck_assert_int_ge(atoll(p), 58000);
	ck_assert_int_le(atoll(p), 61000);
	/* Lifted early: a DELETE with the same token (no new login). */
	ck_assert_int_eq(be->unban(&b), 0);
	ck_assert_int_eq(be->commit(), 0);
	st = settle(3000);
	ck_assert_int_eq(fake_wait(3, 2000), 0);
	fake_get(2, &r);
	ck_assert_str_eq(r.method, "DELETE");
	ck_assert_str_eq(r.path, "/v1/decisions?type=ban&origin=wireban&"
	    "value=192.0.2.8");
	ck_assert_uint_eq(st.delivered, 3);
	ban_cs_worker_stats(&ws);
	ck_assert_uint_eq(ws.logins, 1);
	ck_assert_uint_eq(ws.posts, 1);
	ck_assert_uint_eq(ws.deletes, 1);
	ck_assert_uint_eq(ws.largest, 2);
	be->close();
	fake_stop();
}
END_TEST

/* 401 on a POST (token revoked, LAPI restarted): log in, send again. */
static void
script_401(int n, const struct fake_req *r, struct fake_answer *a)
{
	if (n == 1 && strcmp(r->path, "/v1/alerts") == 0) {
		a->status = 401;
		a->body = "{\"code\":401,\"message\":\"Token is expired\"}";
	}
}

START_TEST(test_lapi_401)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600);
	struct ban_fw_stats st;
	struct fake_req r;

	fake_start(script_401, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	be->commit();
	st = settle(3000);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_int_eq(fake_count(), 4);
	fake_get(2, &r);
	ck_assert_str_eq(r.path, "/v1/watchers/login");
	fake_get(3, &r);
	ck_assert_str_eq(r.path, "/v1/alerts");
	be->close();
	fake_stop();
}
END_TEST

/* Down (503, then a 500 of a busy database), then up: delivered late. */
static void
script_down(int n, const struct fake_req *r, struct fake_answer *a)
{
	(void)r;
	if (n == 1)
		a->status = 503;
	else if (n == 2) {
		a->status = 500;
		a->body = "{\"message\":\"database is locked\"}";
	}
}

START_TEST(test_lapi_down)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600);
	struct ban_fw_stats st;
	struct timespec t0, t1;

	fake_start(script_down, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* commit() returns at once, whatever the LAPI does. */
	ck_assert_int_eq(be->commit(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000000000L +
	    (t1.tv_nsec - t0.tv_nsec), 5000000L);
	ck_assert_int_eq(fake_wait(2, 2000), 0);
	be->stats(&st);
	ck_assert_uint_eq(st.pending, 1);
	st = settle(3000);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_str_eq(st.last_error, "");	/* cleared once it worked */
	ck_assert(logged("status 503"));
	ck_assert(logged("reachable again"));
	be->close();
	fake_stop();
}
END_TEST

static void
script_badpw(int n, const struct fake_req *r, struct fake_answer *a)
{
	(void)n;
	if (strcmp(r->path, "/v1/watchers/login") == 0) {
		a->status = 401;
		a->body = "{\"code\":401,\"message\":\"incorrect Username or "
		    "Password\"}";
	}
}

START_TEST(test_lapi_bad_password)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600);
	struct ban_fw_stats st;

	fake_start(script_badpw, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	be->commit();
	ck_assert_int_eq(fake_wait(3, 3000), 0);
	be->stats(&st);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_str_eq(st.last_error, "login as wb-test refused: 401 "
	    "incorrect Username or Password (check crowdsec.login and its "
	    "password)");
	/* Said once in the log, not at every retry. */
	ck_assert(logged("refused: 401 incorrect Username"));
	pthread_mutex_lock(&lmu);
	ck_assert_ptr_null(strstr(strstr(lbuf, "refused: 401") + 1,
	    "refused: 401"));
	pthread_mutex_unlock(&lmu);
	be->close();
	fake_stop();
	ck_assert(logged("1 deliveries pending, kept in"));
}
END_TEST

/* Hostile replies: no crash, a clear error, the ban kept. */
static char	 huge[1 << 20];

static void
script_hostile(int n, const struct fake_req *r, struct fake_answer *a)
{
	(void)r;
	switch (n) {
	case 0:		/* a token of the wrong type */
		a->body = "{\"code\":200,\"token\":42,\"expire\":\"x\"}";
		break;
	case 1:		/* a 1 MB body */
		memset(huge, ' ', sizeof(huge));
		huge[0] = '{';
		huge[sizeof(huge) - 1] = '}';
		a->body = huge;
		a->body_len = sizeof(huge);
		break;
	case 2:		/* a token that is not a JWT */
		a->body = "{\"code\":200,\"token\":\"a b\",\"expire\":"
		    "\"2099-01-01T00:00:00Z\"}";
		break;
	case 3:		/* a bad expire */
		a->body = "{\"code\":200,\"token\":\"a.b\",\"expire\":"
		    "\"tomorrow\"}";
		break;
	default:
		break;
	}
}

START_TEST(test_lapi_hostile)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600);
	struct ban_fw_stats st;

	fake_start(script_hostile, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	be->commit();
	st = settle(5000);
	ck_assert_uint_eq(st.delivered, 1);
	ck_assert_uint_eq(st.errors, 4);
	ck_assert(logged("token is not a string"));
	ck_assert(logged("reply larger than 65536 bytes"));
	ck_assert(logged("status 200 without a usable token"));
	be->close();
	fake_stop();
}
END_TEST

/* A storm: at most batch alerts per POST, all of them delivered. */
static void
script_slow(int n, const struct fake_req *r, struct fake_answer *a)
{
	(void)n, (void)r;
	a->delay_ms = 20;
}

START_TEST(test_lapi_batches)
{
	struct ban_fw_config c;
	struct ban_fw_stats st;
	struct fake_req r;
	struct ban b;
	char addr[32];
	int i, total = 0;

	fake_start(script_slow, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	c.cs_batch = 500;
	ck_assert_int_eq(be->open(&c), 0);
	/* One at first (the worker starts on it), then a flood. */
	b = now_ban("10.9.9.9", 3600);
	be->ban(&b);
	be->commit();
	for (i = 0; i < 1200; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250, i % 250 + 1);
		b = now_ban(addr, 3600);
		be->ban(&b);
	}
	be->commit();
	st = settle(10000);
	ck_assert_uint_eq(st.delivered, 1201);
	for (i = 1; fake_get(i, &r) == 0; i++) {
		ck_assert_int_le(r.alerts, 500);
		total += r.alerts;
	}
	ck_assert_int_eq(total, 1201);
	ck_assert_int_le(fake_count(), 1 + 5);
	be->close();
	fake_stop();
}
END_TEST

/* Restart: what was pending is delivered; what was, is not again. */
static void
script_down_then_up(int n, const struct fake_req *r, struct fake_answer *a)
{
	(void)n;
	if (getenv("FAKE_DOWN") != NULL && strcmp(r->path, "/v1/alerts") == 0)
		a->status = 503;
}

START_TEST(test_lapi_restart)
{
	const char *spool = tmp_path("spool");
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 3600), b = now_ban("192.0.2.8",
	    3600);
	struct ban both[2] = { a, b };
	struct ban_fw_stats st;
	struct fake_req r;

	setenv("FAKE_DOWN", "1", 1);
	fake_start(script_down_then_up, url, sizeof(url));
	conf(&c, spool);
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	be->commit();
	ck_assert_int_eq(fake_wait(2, 2000), 0);
	be->close();		/* a pending: into the spool */
	unsetenv("FAKE_DOWN");
	fake_stop();
	fake_start(script_down_then_up, url, sizeof(url));
	ck_assert_int_eq(be->open(&c), 0);
	st = settle(3000);
	ck_assert_uint_eq(st.delivered, 1);
	/* The start's sync: a is there already, b is new. */
	ck_assert_int_eq(be->sync(both, 2), 0);
	st = settle(3000);
	ck_assert_uint_eq(st.delivered, 2);
	ck_assert_int_eq(fake_count(), 3);
	fake_get(2, &r);
	ck_assert_int_eq(r.alerts, 1);
	ck_assert_ptr_nonnull(strstr(r.body, "192.0.2.8"));
	be->close();
	/* Again: nothing at all to push. */
	ck_assert_int_eq(be->open(&c), 0);
	ck_assert_int_eq(be->sync(both, 2), 0);
	st = settle(1000);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_int_eq(fake_count(), 3);
	be->close();
	fake_stop();
}
END_TEST

START_TEST(test_password_file)
{
	const char *pw = tmp_path("pw");
	struct ban_fw_config c;
	struct fake_req r;
	struct ban a;

	fake_start(NULL, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	c.cs_password = NULL;
	c.cs_password_file = pw;
	write_file(pw, "s3cret\n");
	ck_assert_int_eq(chmod(pw, 0644), 0);
	ck_assert_int_ne(be->open(&c), 0);
	ck_assert(logged("mode 0644 lets group or others read or write it; "
	    "refused"));
	ck_assert_int_eq(chmod(pw, 0640), 0);
	ck_assert_int_ne(be->open(&c), 0);
	write_file(pw, "two\nlines\n");
	ck_assert_int_eq(chmod(pw, 0600), 0);
	ck_assert_int_ne(be->open(&c), 0);
	write_file(pw, "");
	ck_assert_int_ne(be->open(&c), 0);
	/* One trailing newline is stripped, only one. */
	write_file(pw, "s3cret\n");
	ck_assert_int_eq(be->open(&c), 0);
	a = now_ban("192.0.2.7", 60);
	be->ban(&a);
	be->commit();
	ck_assert_int_eq(fake_wait(1, 2000), 0);
	fake_get(0, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"password\":\"s3cret\","));
	be->close();
	fake_stop();
	/* Both, or neither: refused. */
	c.cs_password = "x";
	ck_assert_int_ne(be->open(&c), 0);
	c.cs_password = c.cs_password_file = NULL;
	ck_assert_int_ne(be->open(&c), 0);
	c.cs_password = "x";
	c.cs_url = "ftp://x";
	ck_assert_int_ne(be->open(&c), 0);
}
END_TEST

/* The field of /proc/self/task/TID/status, "" when absent. */
static void
task_field(const char *tid, const char *key, char *out, size_t len)
{
	char path[128], line[256];
	FILE *fp;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(out, len, "%s", line + strlen(key));
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(fp);
}

/* The worker thread holds no privilege whatever the daemon keeps. */
START_TEST(test_worker_unprivileged)
{
	struct ban_fw_config c;
	struct ban a = now_ban("192.0.2.7", 60);
	char self[32], nnp[64], bnd[64];
	struct dirent *de;
	int dropped = 0;
	DIR *d;

	fake_start(NULL, url, sizeof(url));
	conf(&c, tmp_path("spool"));
	ck_assert_int_eq(be->open(&c), 0);
	be->ban(&a);
	be->commit();
	ck_assert_uint_eq(settle(3000).delivered, 1);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	task_field(self, "NoNewPrivs:", nnp, sizeof(nnp));
	ck_assert_str_eq(nnp, "\t0");
	ck_assert_ptr_nonnull(d = opendir("/proc/self/task"));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, self) == 0)
			continue;
		task_field(de->d_name, "NoNewPrivs:", nnp, sizeof(nnp));
		task_field(de->d_name, "CapBnd:", bnd, sizeof(bnd));
		if (strcmp(nnp, "\t1") == 0 &&
		    strcmp(bnd, "\t0000000000000000") == 0)
			dropped++;
	}
	closedir(d);
	ck_assert_int_eq(dropped, 1);
	be->close();
	fake_stop();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crowdsec_lapi");
	TCase *t;

	t = cs_tc(s, "spool", 10);
	tcase_add_test(t, test_spool_replay);
	tcase_add_test(t, test_spool_torn);
	tcase_add_test(t, test_spool_compact);
	t = cs_tc(s, "lapi", 20);
	tcase_add_test(t, test_lapi_deliver);
	tcase_add_test(t, test_lapi_401);
	tcase_add_test(t, test_lapi_down);
	tcase_add_test(t, test_lapi_bad_password);
	tcase_add_test(t, test_lapi_hostile);
	tcase_add_test(t, test_lapi_batches);
	tcase_add_test(t, test_lapi_restart);
	tcase_add_test(t, test_password_file);
	tcase_add_test(t, test_worker_unprivileged);
	return run_suite(s);
}
