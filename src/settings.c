/*
 * settings.c - from config entries to the typed settings of sniffer/,
 * smtp/ (user rules) and bans/ (policy, firewall). Each error names where the bad
 * value came from (file:line or -o) and the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static int
settings_parse_ports(const char *v, uint16_t *ports, size_t max)
{
	const char *p = v;
	size_t n = 0;
	char *end;
	long port;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		port = strtol(p, &end, 10);
		if (end == p || errno != 0 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != ',' && *end != ' ') || n == max)
			return -1;
		ports[n++] = (uint16_t)port;
		p = end;
	}
	return n == 0 ? -1 : (int)n;
}

static int
capture_settings(struct settings *s, char *err, size_t errlen)
{
	static const char *const csum[] = { "auto", "on", "off", NULL };
	const struct config_entry *e;
	struct sniff_config *c = &s->capture;
	long n;
	int i;

	sniff_config_defaults(c);
	if ((e = config_get(&s->conf, "capture", "ports")) != NULL) {
		if ((i = settings_parse_ports(e->value, c->ports,
		    SNIFF_MAX_PORTS)) < 0) {
			snprintf(err, errlen, "%s: capture.ports: '%.60s' is "
			    "not a list of 1 to %d ports (1-65535) separated "
			    "by commas", e->where, e->value, SNIFF_MAX_PORTS);
			return -1;
		}
		c->nports = (size_t)i;
	}
	if ((e = config_get(&s->conf, "capture", "servers")) != NULL) {
		char buf[4096], *tok, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", e->value);
		c->nservers = 0;
		for (tok = strtok_r(buf, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			if (c->nservers == SNIFF_MAX_SERVERS ||
			    wb_addr_parse(&c->servers[c->nservers], tok) < 0) {
				snprintf(err, errlen, "%s: capture.servers: "
				    "'%.60s' is not an IPv4 or IPv6 address "
				    "(at most %d)", e->where, tok,
				    SNIFF_MAX_SERVERS);
				return -1;
			}
			c->nservers++;
		}
	}
	i = (int)c->checksums;
	if (config_choice(&s->conf, "capture", "checksums", csum, &i, err,
	    errlen) < 0)
		return -1;
	c->checksums = (enum sniff_checksums)i;
	n = c->max_streams;
	if (config_long(&s->conf, "capture", "max_streams", 16, 4000000, &n,
	    err, errlen) < 0)
		return -1;
	c->max_streams = (int)n;
	if (config_duration(&s->conf, "capture", "idle_timeout",
	    &c->idle_timeout, err, errlen) < 0)
		return -1;
	/* The live capture's ring, in MiB. */
	n = (long)(c->buffer >> 20);
	if (config_long(&s->conf, "capture", "buffer", 1, 1024, &n, err,
	    errlen) < 0)
		return -1;
	c->buffer = (size_t)n << 20;
	n = c->max_handshakes;
	if (config_long(&s->conf, "capture", "max_handshakes", 16, 4194304,
	    &n, err, errlen) < 0)
		return -1;
	c->max_handshakes = (int)n;
	if (config_duration(&s->conf, "capture", "handshake_timeout",
	    &c->handshake_timeout, err, errlen) < 0)
		return -1;
	if (c->handshake_timeout < WB_USEC_PER_SEC ||
	    c->handshake_timeout > 600 * WB_USEC_PER_SEC) {
		e = config_get(&s->conf, "capture", "handshake_timeout");
		snprintf(err, errlen, "%s: capture.handshake_timeout: 1s to 10m",
		    e ? e->where : "?");
		return -1;
	}
	if (c->idle_timeout < WB_USEC_PER_SEC) {
		e = config_get(&s->conf, "capture", "idle_timeout");
		snprintf(err, errlen, "%s: capture.idle_timeout: at least 1s",
		    e ? e->where : "?");
		return -1;
	}
	s->interface = NULL;
	config_string(&s->conf, "capture", "interface", &s->interface);
	return 0;
}

/* [rule NAME] sections, in file order, onto the built-in pack. */
static int
rule_settings(struct settings *s, char *err, size_t errlen)
{
	char why[256];
	size_t i;

	if ((s->rules = smtp_rules_new(true)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s->conf.n; i++) {
		const struct config_entry *e = &s->conf.v[i];

		if (strncmp(e->section, "rule ", 5) != 0)
			continue;
		if (smtp_rules_set(s->rules, e->section + 5, e->key, e->value,
		    why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: [%s] %s", e->where,
			    e->section, why);
			return -1;
		}
	}
	return 0;
}

static int
policy_settings(struct settings *s, char *err, size_t errlen)
{
	const struct config_entry *e;
	struct ban_policy_config *p = &s->policy;
	long n;
	char *tok, *save = NULL;

	ban_policy_defaults(p);
	n = p->maxretry;
	if (config_long(&s->conf, "policy", "maxretry", 1, 1000, &n, err,
	    errlen) < 0)
		return -1;
	p->maxretry = (int)n;
	if (config_duration(&s->conf, "policy", "findtime", &p->findtime,
	    err, errlen) < 0 ||
	    config_duration(&s->conf, "policy", "bantime", &p->bantime, err,
	    errlen) < 0 ||
	    config_double(&s->conf, "policy", "bantime_factor", 1, 1000,
	    &p->bantime_factor, err, errlen) < 0 ||
	    config_duration(&s->conf, "policy", "bantime_max", &p->bantime_max,
	    err, errlen) < 0)
		return -1;
	if (p->bantime < WB_USEC_PER_SEC || p->findtime < WB_USEC_PER_SEC) {
		e = config_get(&s->conf, "policy", p->bantime <
		    WB_USEC_PER_SEC ? "bantime" : "findtime");
		snprintf(err, errlen, "%s: policy.%s: at least 1s",
		    e ? e->where : "?", e ? e->key : "?");
		return -1;
	}
	n = p->prefix4;
	if (config_long(&s->conf, "policy", "ipv4_prefix", 8, 32, &n, err,
	    errlen) < 0)
		return -1;
	p->prefix4 = (int)n;
	n = p->prefix6;
	if (config_long(&s->conf, "policy", "ipv6_prefix", 32, 128, &n, err,
	    errlen) < 0)
		return -1;
	p->prefix6 = (int)n;
	n = (long)p->max_tracked;
	if (config_long(&s->conf, "policy", "max_tracked", 1000, 16777216, &n,
	    err, errlen) < 0)
		return -1;
	p->max_tracked = (size_t)n;
	if (p->bantime_max < p->bantime) {
		e = config_get(&s->conf, "policy", "bantime_max");
		if (e == NULL)
			p->bantime_max = p->bantime;
		else {
			snprintf(err, errlen, "%s: policy.bantime_max: '%s' is "
			    "shorter than policy.bantime", e->where, e->value);
			return -1;
		}
	}
	s->ignoreself = true;
	if (config_bool(&s->conf, "policy", "ignoreself", &s->ignoreself, err,
	    errlen) < 0)
		return -1;
	s->nignore = 0;
	if ((e = config_get(&s->conf, "policy", "ignoreip")) != NULL) {
		snprintf(s->ignore_buf, sizeof(s->ignore_buf), "%s", e->value);
		for (tok = strtok_r(s->ignore_buf, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save)) {
			struct wb_addr net;
			int bits;

			if (s->nignore == MAX_IGNORE ||
			    ban_cidr_parse(tok, &net, &bits) < 0) {
				snprintf(err, errlen, "%s: policy.ignoreip: "
				    "'%.60s' is not an address or CIDR (v4 or "
				    "v6; at most %d items)", e->where, tok,
				    MAX_IGNORE);
				return -1;
			}
			if (bits == 0)
				fprintf(stderr, "wireban: %s: policy.ignoreip: "
				    "%s covers every %s address: nothing %s "
				    "will ever be banned\n", e->where, tok,
				    net.family == AF_INET ? "IPv4" : "IPv6",
				    net.family == AF_INET ? "over IPv4" :
				    "over IPv6");
			s->ignoreip[s->nignore++] = tok;
		}
	}
	return 0;
}

/* A table or set name: 1-28 letters, digits, '_' or '-'. */
static int
name_setting(struct settings *s, const char *key, const char **out,
    char *err, size_t errlen)
{
	const struct config_entry *e = config_get(&s->conf, "firewall", key);

	if (e == NULL)
		return 0;
	if (strlen(e->value) == 0 || strlen(e->value) > 28 ||
	    strspn(e->value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
	    "XYZ0123456789_-") != strlen(e->value)) {
		snprintf(err, errlen, "%s: firewall.%s: '%.60s' is not a name "
		    "(1-28 letters, digits, '_' or '-')", e->where, key,
		    e->value);
		return -1;
	}
	*out = e->value;
	return 0;
}

static int
firewall_settings(struct settings *s, char *err, size_t errlen)
{
	static const char *const backends[] = { "nftables", "ipset",
		"iptables", "dry-run", "exec", "crowdsec", NULL };
	char list[256], *tok, *save = NULL;
	size_t k;
	static const char *const targets[] = { "DROP", "REJECT", NULL };
	const struct config_entry *e;
	struct ban_fw_config *f = &s->fw;
	long n;
	int i;

	ban_fw_config_defaults(f);
	/* One backend, or several: "nftables,crowdsec". */
	if ((e = config_get(&s->conf, "firewall", "backend")) != NULL) {
		snprintf(list, sizeof(list), "%s", e->value);
		for (tok = strtok_r(list, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			for (k = 0; backends[k] != NULL; k++)
				if (strcmp(backends[k], tok) == 0)
					break;
			if (backends[k] == NULL) {
				snprintf(err, errlen, "%s: firewall.backend: "
				    "'%.40s' is not one of nftables, ipset, "
				    "iptables, dry-run, exec, crowdsec", e->where,
				    tok);
				return -1;
			}
		}
		f->backend = e->value;
	}
	config_string(&s->conf, "firewall", "chain", &f->chain);
	if ((e = config_get(&s->conf, "firewall", "chain")) != NULL &&
	    (strlen(e->value) == 0 || strlen(e->value) >= BAN_CHAIN_MAX ||
	    strspn(e->value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
	    "XYZ0123456789_-") != strlen(e->value))) {
		snprintf(err, errlen, "%s: firewall.chain: '%.60s' is not a "
		    "chain name (1-%d letters, digits, '_' or '-')", e->where,
		    e->value, BAN_CHAIN_MAX - 1);
		return -1;
	}
	if (config_bool(&s->conf, "firewall", "allports", &f->allports, err,
	    errlen) < 0 ||
	    config_bool(&s->conf, "firewall", "forward", &f->forward, err,
	    errlen) < 0 ||
	    config_bool(&s->conf, "firewall", "keep_on_exit",
	    &f->keep_on_close, err, errlen) < 0)
		return -1;
	i = (int)f->target;
	if (config_choice(&s->conf, "firewall", "target", targets, &i, err,
	    errlen) < 0)
		return -1;
	f->target = (enum ban_target)i;
	if (name_setting(s, "table", &f->table, err, errlen) < 0 ||
	    name_setting(s, "set4", &f->set4, err, errlen) < 0 ||
	    name_setting(s, "set6", &f->set6, err, errlen) < 0)
		return -1;
	n = (long)f->maxelem;
	if (config_long(&s->conf, "firewall", "maxelem", 1024, 1L << 27, &n,
	    err, errlen) < 0)
		return -1;
	f->maxelem = (size_t)n;
	/* The sets are keyed on the prefixes the policy bans. */
	f->prefix4 = s->policy.prefix4;
	f->prefix6 = s->policy.prefix6;
	config_string(&s->conf, "firewall", "ban_command", &f->ban_command);
	config_string(&s->conf, "firewall", "unban_command",
	    &f->unban_command);
	if (strstr(f->backend, "exec") != NULL && (f->ban_command == NULL ||
	    f->unban_command == NULL)) {
		e = config_get(&s->conf, "firewall", "backend");
		snprintf(err, errlen, "%s: firewall.backend: exec needs "
		    "firewall.ban_command and firewall.unban_command",
		    e ? e->where : "?");
		return -1;
	}
	/* The firewall guards the ports wireban watches. */
	f->nports = s->capture.nports < BAN_PORTS_MAX ? s->capture.nports :
	    BAN_PORTS_MAX;
	memcpy(f->ports, s->capture.ports, f->nports * sizeof(f->ports[0]));
	return 0;
}

/* [crowdsec]: the Local API a crowdsec backend delivers to. */
static int
crowdsec_settings(struct settings *s, char *err, size_t errlen)
{
	struct ban_fw_config *f = &s->fw;
	wb_usec t = (wb_usec)f->cs_timeout_ms * 1000;
	long n = (long)f->cs_batch;

	config_string(&s->conf, "crowdsec", "url", &f->cs_url);
	config_string(&s->conf, "crowdsec", "login", &f->cs_login);
	config_string(&s->conf, "crowdsec", "password", &f->cs_password);
	config_string(&s->conf, "crowdsec", "password_file",
	    &f->cs_password_file);
	config_string(&s->conf, "crowdsec", "scenario", &f->cs_scenario);
	config_string(&s->conf, "crowdsec", "origin", &f->cs_origin);
	config_string(&s->conf, "crowdsec", "ca_file", &f->cs_ca_file);
	if (config_duration(&s->conf, "crowdsec", "timeout", &t, err,
	    errlen) < 0 ||
	    config_long(&s->conf, "crowdsec", "batch", 1, 10000, &n, err,
	    errlen) < 0)
		return -1;
	if (t < WB_USEC_PER_SEC || t > 600 * WB_USEC_PER_SEC) {
		const struct config_entry *e = config_get(&s->conf, "crowdsec",
		    "timeout");

		snprintf(err, errlen, "%s: crowdsec.timeout: 1s to 10m",
		    e != NULL ? e->where : "?");
		return -1;
	}
	f->cs_timeout_ms = (int)(t / 1000);
	f->cs_batch = (size_t)n;
	if (strstr(f->backend, "crowdsec") != NULL && (f->cs_login == NULL ||
	    (f->cs_password == NULL) == (f->cs_password_file == NULL))) {
		const struct config_entry *e = config_get(&s->conf, "firewall",
		    "backend");

		snprintf(err, errlen, "%s: firewall.backend: crowdsec needs "
		    "crowdsec.login and one of crowdsec.password, "
		    "crowdsec.password_file", e != NULL ? e->where : "?");
		return -1;
	}
	return 0;
}

static int
path_settings(struct settings *s, char *err, size_t errlen)
{
	const struct config_entry *e;

	s->state_path = DEFAULT_STATE;
	s->socket_path = DEFAULT_SOCKET;
	s->events_path = NULL;
	s->metrics_path = NULL;
	s->metrics_interval = 15 * WB_USEC_PER_SEC;
	s->log = "auto";
	config_string(&s->conf, "paths", "state", &s->state_path);
	config_string(&s->conf, "paths", "socket", &s->socket_path);
	config_string(&s->conf, "paths", "events", &s->events_path);
	config_string(&s->conf, "paths", "metrics", &s->metrics_path);
	config_string(&s->conf, "paths", "log", &s->log);
	if (config_duration(&s->conf, "paths", "metrics_interval",
	    &s->metrics_interval, err, errlen) < 0)
		return -1;
	if (s->metrics_interval < WB_USEC_PER_SEC) {
		e = config_get(&s->conf, "paths", "metrics_interval");
		snprintf(err, errlen, "%s: paths.metrics_interval: at least 1s",
		    e != NULL ? e->where : "?");
		return -1;
	}
	if (strcmp(s->log, "auto") != 0 && strcmp(s->log, "syslog") != 0 &&
	    strcmp(s->log, "stderr") != 0) {
		e = config_get(&s->conf, "paths", "log");
		snprintf(err, errlen, "%s: paths.log: 'auto', 'syslog' or "
		    "'stderr', not '%.60s'", e != NULL ? e->where : "?", s->log);
		return -1;
	}
	/* A remote backend's deliveries wait beside the state. */
	snprintf(s->spool_buf, sizeof(s->spool_buf), "%s.crowdsec",
	    s->state_path);
	s->fw.cs_spool = s->spool_buf;
	return 0;
}

int
settings_load(struct settings *s, const char *path, bool explicit_path,
    char *const *overrides, char *err, size_t errlen)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->conf_path = path;
	if (config_load(&s->conf, path, explicit_path, err, errlen) < 0)
		return -1;
	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		if (config_override(&s->conf, overrides[i], err, errlen) < 0)
			return -1;
	if (capture_settings(s, err, errlen) < 0 ||
	    rule_settings(s, err, errlen) < 0 ||
	    policy_settings(s, err, errlen) < 0 ||
	    firewall_settings(s, err, errlen) < 0 ||
	    crowdsec_settings(s, err, errlen) < 0 ||
	    path_settings(s, err, errlen) < 0)
		return -1;
	return 0;
}

void
settings_free(struct settings *s)
{
	smtp_rules_free(s->rules);
	s->rules = NULL;
	config_free(&s->conf);
}
