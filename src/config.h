/*
 * config.h - the configuration file and its -o overrides.
 *
 * One INI file (default /etc/wireban/wireban.conf): [section] headers,
 * "key = value" lines, '#' or ';' comments. Every key is optional. This
 * module only reads and checks the text: each key's value is turned into
 * a typed setting by the config_* getters, whose errors name the file,
 * line and key ("wireban.conf:12: policy.bantime: ..."). Sections and
 * keys are those of the tables in config.c (wireban.conf(5) documents
 * each); an unknown one is an error.
 */
#ifndef WIREBAN_CONFIG_H
#define WIREBAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define CONFIG_DEFAULT_PATH "/etc/wireban/wireban.conf"

struct config_entry {
	char	*section;	/* "policy", "rule relay", ... */
	char	*key;
	char	*value;
	char	*where;		/* "FILE:LINE" or "-o ..." */
	unsigned line;		/* LINE of where; 0 for -o */
};

struct config {
	struct config_entry *v;
	size_t		 n;
	char		*path;	/* the file read, or NULL */
};

/*
 * Reads path into c (zeroed by the caller; free with config_free).
 * A missing file is an error only when must_exist. Returns 0, or -1 with
 * a message naming FILE:LINE in err (FILE alone when it cannot be read);
 * on error c keeps nothing of the file. The file is at most 1 MiB.
 */
int config_load(struct config *c, const char *path, bool must_exist,
    char *err, size_t errlen);

/*
 * config_load() on len bytes of text already in memory (not NUL
 * terminated; name stands for the file in messages). Rejected, naming
 * the line: NUL bytes, UTF-16 or UTF-32 (a byte order mark, or every
 * other byte NUL), a line over 4094 bytes, a key set twice (both lines
 * named; a section given twice merges), more than 4096 settings. A
 * UTF-8 byte order mark is skipped.
 */
int config_parse(struct config *c, const char *name, const void *text,
    size_t len, char *err, size_t errlen);

/* Applies "section.key=value" (rule keys: "rule.NAME.key=value"). */
int config_override(struct config *c, const char *spec, char *err,
    size_t errlen);

void config_free(struct config *c);

/* The entry in force for section/key (the last one set), or NULL. */
const struct config_entry *config_get(const struct config *c,
    const char *section, const char *key);

/*
 * Typed getters: leave *out alone when the key is unset; return 0, or -1
 * with "WHERE: section.key: what is wrong" in err.
 */
int config_duration(const struct config *c, const char *sec, const char *key,
    wb_usec *out, char *err, size_t errlen);
int config_long(const struct config *c, const char *sec, const char *key,
    long lo, long hi, long *out, char *err, size_t errlen);
int config_double(const struct config *c, const char *sec, const char *key,
    double lo, double hi, double *out, char *err, size_t errlen);
int config_bool(const struct config *c, const char *sec, const char *key,
    bool *out, char *err, size_t errlen);
int config_string(const struct config *c, const char *sec, const char *key,
    const char **out);
/* One of the words in choices (NULL-terminated); *out is its index. */
int config_choice(const struct config *c, const char *sec, const char *key,
    const char *const *choices, int *out, char *err, size_t errlen);

/* Parses "30", "30s", "10m", "1h", "2d", "1w" into microseconds. */
int config_parse_duration(const char *s, wb_usec *out);

/* Writes every entry in force, as a config file, to a FILE *. */
void config_dump(const struct config *c, void *fp);

#endif
