/*
 * show.c - `wireban config`: every key with the value in force, as a
 * configuration file that would give the same settings, each line
 * saying where its value came from (FILE:LINE, -o, or the default).
 */
#include <stdio.h>
#include <string.h>

#include "settings.h"

/* A duration in the largest unit that divides it: 600 s -> "10m". */
static const char *
dur(wb_usec us, char *buf, size_t len)
{
	static const struct {
		long long	 secs;
		char		 unit;
	} units[] = { { 604800, 'w' }, { 86400, 'd' }, { 3600, 'h' },
	    { 60, 'm' } };
	long long s = (long long)(us / WB_USEC_PER_SEC);
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s != 0 && s % units[i].secs == 0) {
			snprintf(buf, len, "%lld%c", s / units[i].secs,
			    units[i].unit);
			return buf;
		}
	snprintf(buf, len, "%llds", s);
	return buf;
}

static void
line(FILE *fp, const struct settings *s, const char *sec, const char *key,
    const char *value)
{
	const struct config_entry *e = config_get(&s->conf, sec, key);

	fprintf(fp, "%s = %s\t# %s\n", key, value != NULL ? value : "",
	    e != NULL ? e->where : "default");
}

static void
num(FILE *fp, const struct settings *s, const char *sec, const char *key,
    long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	line(fp, s, sec, key, b);
}

static void
ports(FILE *fp, const struct settings *s)
{
	char b[128];
	size_t i, o = 0;

	b[0] = '\0';
	for (i = 0; i < s->capture.nports && o + 8 < sizeof(b); i++)
		o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%u", i ? "," : "",
		    s->capture.ports[i]);
	line(fp, s, "capture", "ports", b);
}

static void
servers(FILE *fp, const struct settings *s)
{
	char b[SNIFF_MAX_SERVERS * (WB_ADDR_STRLEN + 2)], a[WB_ADDR_STRLEN];
	size_t i, o = 0;

	b[0] = '\0';
	for (i = 0; i < s->capture.nservers; i++)
		o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s",
		    i ? ", " : "", wb_addr_str(&s->capture.servers[i], a));
	line(fp, s, "capture", "servers", b);
}

static void
ignores(FILE *fp, const struct settings *s)
{
	char b[4096];
	size_t i, o = 0;

	b[0] = '\0';
	for (i = 0; i < s->nignore && o < sizeof(b); i++)
		o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s",
		    i ? ", " : "", s->ignoreip[i]);
	line(fp, s, "policy", "ignoreip", b);
}

void
settings_dump(const struct settings *s, FILE *fp)
{
	static const char *const csum[] = { "auto", "on", "off" };
	const struct sniff_config *c = &s->capture;
	const struct ban_policy_config *p = &s->policy;
	const struct ban_fw_config *f = &s->fw;
	char b[64];

	fprintf(fp, "[capture]\n");
	line(fp, s, "capture", "interface",
	    s->interface != NULL ? s->interface : "any");
	ports(fp, s);
	servers(fp, s);
	line(fp, s, "capture", "checksums", csum[c->checksums]);
	num(fp, s, "capture", "max_streams", c->max_streams);
	line(fp, s, "capture", "idle_timeout", dur(c->idle_timeout, b,
	    sizeof(b)));
	num(fp, s, "capture", "buffer", (long long)(c->buffer >> 20));
	num(fp, s, "capture", "max_handshakes", c->max_handshakes);
	line(fp, s, "capture", "handshake_timeout", dur(c->handshake_timeout,
	    b, sizeof(b)));

	fprintf(fp, "\n[policy]\n");
	num(fp, s, "policy", "maxretry", p->maxretry);
	line(fp, s, "policy", "findtime", dur(p->findtime, b, sizeof(b)));
	line(fp, s, "policy", "bantime", dur(p->bantime, b, sizeof(b)));
	snprintf(b, sizeof(b), "%g", p->bantime_factor);
	line(fp, s, "policy", "bantime_factor", b);
	line(fp, s, "policy", "bantime_max", dur(p->bantime_max, b,
	    sizeof(b)));
	num(fp, s, "policy", "ipv4_prefix", p->prefix4);
	num(fp, s, "policy", "ipv6_prefix", p->prefix6);
	num(fp, s, "policy", "max_tracked", (long long)p->max_tracked);
	ignores(fp, s);
	line(fp, s, "policy", "ignoreself", s->ignoreself ? "yes" : "no");

	fprintf(fp, "\n[firewall]\n");
	line(fp, s, "firewall", "backend", f->backend);
	line(fp, s, "firewall", "table", f->table);
	line(fp, s, "firewall", "set4", f->set4);
	line(fp, s, "firewall", "set6", f->set6);
	num(fp, s, "firewall", "maxelem", (long long)f->maxelem);
	line(fp, s, "firewall", "chain", f->chain);
	line(fp, s, "firewall", "allports", f->allports ? "yes" : "no");
	line(fp, s, "firewall", "target", f->target == BAN_TARGET_REJECT ?
	    "REJECT" : "DROP");
	line(fp, s, "firewall", "forward", f->forward ? "yes" : "no");
	line(fp, s, "firewall", "keep_on_exit", f->keep_on_close ? "yes" :
	    "no");
	line(fp, s, "firewall", "ban_command", f->ban_command);
	line(fp, s, "firewall", "unban_command", f->unban_command);

	fprintf(fp, "\n[crowdsec]\n");
	line(fp, s, "crowdsec", "url", f->cs_url);
	line(fp, s, "crowdsec", "login", f->cs_login);
	line(fp, s, "crowdsec", "password", f->cs_password != NULL ?
	    "(set, not shown)" : NULL);
	line(fp, s, "crowdsec", "password_file", f->cs_password_file);
	line(fp, s, "crowdsec", "scenario", f->cs_scenario);
	line(fp, s, "crowdsec", "origin", f->cs_origin);
	line(fp, s, "crowdsec", "timeout", dur((wb_usec)f->cs_timeout_ms *
	    1000, b, sizeof(b)));
	num(fp, s, "crowdsec", "batch", (long long)f->cs_batch);
	line(fp, s, "crowdsec", "ca_file", f->cs_ca_file);

	fprintf(fp, "\n[paths]\n");
	line(fp, s, "paths", "state", s->state_path);
	line(fp, s, "paths", "socket", s->socket_path);
	line(fp, s, "paths", "events", s->events_path);
	line(fp, s, "paths", "metrics", s->metrics_path);
	line(fp, s, "paths", "metrics_interval", dur(s->metrics_interval, b,
	    sizeof(b)));
	line(fp, s, "paths", "log", s->log);
}
