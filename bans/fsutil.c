/*
 * fsutil.c - files written so that a crash leaves the old or the new
 * one, never a mix: a temp file beside the target, written whole,
 * fsynced, renamed over it, and the directory fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bans_int.h"

char *
ban_path_suffixed(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s != NULL)
		(void)snprintf(s, n, "%s%s", path, suffix);
	return s;
}

/* The directory part of path ("." for a bare name). */
static int
dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, dirlen, ".") >= (int)dirlen ? -1 : 0;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirlen)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* A rename is only durable once the directory entry is on disk. */
static int
fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc;

	if (dir_of(path, dir, sizeof(dir)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes the whole of fd's buffer; -1 with errno on failure. */
int
ban_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes path through path.tmp: content, fsync, rename, fsync of the
 * directory. Returns 0, or -1 with a log line (path untouched).
 */
int
ban_replace_file(const char *path, const char *buf, size_t len)
{
	char *tmp = ban_path_suffixed(path, ".tmp");
	int fd = -1, e;

	if (tmp == NULL) {
		ban_log(BAN_LOG_ERR, "state: %s: out of memory", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || ban_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		e = errno;
		ban_log(BAN_LOG_ERR, "state: %s: %s", tmp, strerror(e));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		ban_log(BAN_LOG_ERR, "state: %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		ban_log(BAN_LOG_ERR, "state: rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	if (fsync_dir(path) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: fsync of directory: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return -1;
}

