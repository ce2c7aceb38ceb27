/*
 * main.c - the command line. Parses options, loads the settings, and
 * hands over to one command; wires nothing itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "wireban.h"

#define WIREBAN_VERSION "0.1"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: wireban [-c CONFIG] [-o SECTION.KEY=VALUE]... COMMAND [ARGS]\n"
"\n"
"Watches SMTP traffic, reads the server's replies and finds the clients\n"
"it rejected for abuse (relay probes, unknown users, blocklisted hosts,\n"
"password guessing, early talkers, ...). IPv4 only for now: IPv6\n"
"packets are counted and reported, not inspected.\n"
"\n"
"commands:\n"
"  watch [-i IFACE]          capture live (default: capture.interface, or\n"
"                            any) and ban in the firewall; needs root or\n"
"                            CAP_NET_RAW + CAP_NET_ADMIN\n"
"  replay [--json] [--apply] FILE...\n"
"                            read pcap/pcapng captures; print a report, or\n"
"                            with --json the event stream (JSON Lines);\n"
"                            decisions only, unless --apply bans through\n"
"                            the configured firewall backend\n"
"  status [--prometheus]     counters of the running watch (in words, or\n"
"                            in Prometheus' text format)\n"
"  list                      addresses banned now, rule, time left\n"
"  ban ADDR[/BITS] [--for DURATION] [--force]\n"
"                            ban an address or prefix by hand (default:\n"
"                            the policy's bantime; at most\n"
"                            policy.bantime_max unless --force)\n"
"  unban ADDR[/BITS]         lift a ban (an address: the ban covering it)\n"
"  rules                     print the rule set in force\n"
"  config                    print the configuration in force\n"
"\n"
"The iptables backend writes through libiptc, i.e. the legacy tables:\n"
"see the bans with `iptables-legacy -S wireban`, not `iptables -S`.\n"
"\n"
"options:\n"
"  -c CONFIG   configuration file (default " CONFIG_DEFAULT_PATH ";\n"
"              a missing default file is fine, every key is optional)\n"
"  -o S.K=V    override key K of section S, e.g. -o policy.bantime=3s\n"
"              (rule keys: -o rule.NAME.KEY=VALUE)\n"
"  -i IFACE    (watch) the interface to capture on\n"
"  --json      (replay) print events as JSON Lines\n"
"  --apply     (replay) really ban, through firewall.backend\n"
"  --for DUR   (ban) how long: 30s, 10m, 1h, 2d, 1w\n"
"  --force     (ban) longer than policy.bantime_max\n"
"  --prometheus (status) Prometheus' text format\n"
"  -h, --help  this text\n"
"  -V, --version\n"
"\n"
"exit status: 0 fine, 1 runtime error (e.g. an unreadable capture),\n"
"2 bad command line or configuration.\n");
}

static int
cmd_rules(struct settings *s, struct opts *o)
{
	size_t i, n = smtp_rules_count(s->rules);

	(void)o;
	printf("# rules in match order: the first that matches a 4xx/5xx "
	    "reply wins\n");
	printf("# %-14s %-12s %-10s %-6s %-7s %s\n", "name", "code",
	    "command", "weight", "offence", "pattern (caseless)");
	for (i = 0; i < n; i++) {
		const struct smtp_rule_info *r = smtp_rules_get(s->rules, i);

		printf("%-16s %-12s %-10s %-6d %-7s %s%s\n", r->name, r->code,
		    r->command, r->weight, r->offence ? "yes" : "no",
		    r->pattern[0] ? r->pattern : "(any text)",
		    r->builtin ? "" : "  [user]");
	}
	return 0;
}

static int
cmd_config(struct settings *s, struct opts *o)
{
	(void)o;
	printf("# configuration in force: every key, and where its value "
	    "came from\n");
	printf("# file: %s%s\n", s->conf_path,
	    s->conf.path ? "" : " (not present: built-in defaults)");
	settings_dump(s, stdout);
	return 0;
}

/* status, list, ban, unban: requests to a running watch. */
static int
cmd_control(struct settings *s, struct opts *o, const char *verb)
{
	char line[CONTROL_LINE_MAX];
	struct wb_addr a;
	wb_usec d;
	int bits;

	if (strcmp(verb, "ban") == 0 || strcmp(verb, "unban") == 0) {
		if (o->nargs != 1 || ban_cidr_parse(o->args[0], &a, &bits) < 0) {
			fprintf(stderr, "wireban: %s: give one IPv4 or IPv6 "
			    "address or prefix (ADDR/BITS)%s%s\n", verb,
			    o->nargs ? ", not " : "",
			    o->nargs ? o->args[0] : "");
			return 2;
		}
		if (o->duration != NULL &&
		    (config_parse_duration(o->duration, &d) < 0 || d <= 0)) {
			fprintf(stderr, "wireban: ban: --for %s: not a "
			    "duration above 0 (30s, 10m, 1h, 2d, 1w)\n",
			    o->duration);
			return 2;
		}
		snprintf(line, sizeof(line), "%s %s%s%s%s", verb, o->args[0],
		    o->duration ? " " : "", o->duration ? o->duration : "",
		    o->force ? " force" : "");
	} else {
		if (o->nargs != 0) {
			fprintf(stderr, "wireban: %s takes no arguments\n",
			    verb);
			return 2;
		}
		snprintf(line, sizeof(line), "%s%s", verb,
		    o->prometheus ? " prometheus" : "");
	}
	return control_request(s->socket_path, line,
	    o->prometheus ? CONTROL_RAW : 0);
}

static int
cmd_status(struct settings *s, struct opts *o)
{
	return cmd_control(s, o, "status");
}

static int
cmd_list(struct settings *s, struct opts *o)
{
	return cmd_control(s, o, "list");
}

static int
cmd_ban(struct settings *s, struct opts *o)
{
	return cmd_control(s, o, "ban");
}

static int
cmd_unban(struct settings *s, struct opts *o)
{
	return cmd_control(s, o, "unban");
}

static const struct command {
	const char	*name;
	int		(*fn)(struct settings *, struct opts *);
	const char	*options;	/* long options it takes */
} commands[] = {
	{ "replay", cmd_replay, "json apply" },
	{ "watch", cmd_watch, "iface" },
	{ "status", cmd_status, "prometheus" },
	{ "list", cmd_list, "" },
	{ "ban", cmd_ban, "for force" },
	{ "unban", cmd_unban, "" },
	{ "rules", cmd_rules, "" },
	{ "config", cmd_config, "" },
};

static int
parse_opts(int argc, char **argv, const struct command *cmd, struct opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "apply", no_argument, NULL, 'a' },
		{ "for", required_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;	/* 0: GNU getopt starts over, permutation state too */
	opterr = 0;
	/* Global options stop at the command; a command's own may follow
	 * its arguments ("ban ADDR --for 1h"). */
	while ((ch = getopt_long(argc, argv, cmd == NULL ? "+c:o:i:hV" :
	    "c:o:i:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			o->config_given = true;
			break;
		case 'o':
			if (o->noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "wireban: more than %d -o "
				    "options\n", MAX_OVERRIDES);
				return 2;
			}
			o->overrides[o->noverrides++] = optarg;
			break;
		case 'j':
			if (cmd == NULL || strstr(cmd->options, "json") == NULL)
				goto bad;
			o->json = true;
			break;
		case 'a':
			if (cmd == NULL || strstr(cmd->options, "apply") == NULL)
				goto bad;
			o->apply = true;
			break;
		case 'f':
			if (cmd == NULL || strstr(cmd->options, "for") == NULL)
				goto bad;
			o->duration = optarg;
			break;
		case 'P':
			if (cmd == NULL ||
			    strstr(cmd->options, "prometheus") == NULL)
				goto bad;
			o->prometheus = true;
			break;
		case 'F':
			if (cmd == NULL || strstr(cmd->options, "force") == NULL)
				goto bad;
			o->force = true;
			break;
		case 'i':
			if (cmd == NULL || strstr(cmd->options, "iface") == NULL)
				goto bad;
			o->interface = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("wireban %s\n", WIREBAN_VERSION);
			exit(0);
		default:
			goto bad;
		}
	}
	return 0;
bad:
	if (optopt != 0 && strchr("cofi", optopt) != NULL)
		fprintf(stderr, "wireban: %s: option -%c needs an argument\n",
		    cmd ? cmd->name : "", optopt);
	else if (optopt != 0 && strchr("jaf", optopt) == NULL)
		fprintf(stderr, "wireban: %s: unknown option or missing "
		    "argument: -%c\n", cmd ? cmd->name : "", optopt);
	else
		fprintf(stderr, "wireban: %s: unknown option: %s\n",
		    cmd ? cmd->name : "", argv[optind - 1]);
	fprintf(stderr, "try 'wireban --help'\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct opts o = { .config = CONFIG_DEFAULT_PATH };
	const struct command *cmd = NULL;
	struct settings s;
	char err[1024];
	size_t i;
	int rc;

	/* Options before the command, then the command's own. */
	if ((rc = parse_opts(argc, argv, NULL, &o)) != 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "wireban: unknown command '%s'; try "
		    "'wireban --help'\n", argv[optind]);
		return 2;
	}
	argc -= optind;
	argv += optind;
	if ((rc = parse_opts(argc, argv, cmd, &o)) != 0)
		return rc;
	o.args = argv + optind;
	o.nargs = argc - optind;

	if (settings_load(&s, o.config, o.config_given, o.overrides, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "wireban: %s\n", err);
		settings_free(&s);
		return 2;
	}
	rc = cmd->fn(&s, &o);
	settings_free(&s);
	return rc;
}
