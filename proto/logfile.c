/*
 * logfile.c - a log file that a rotation can move away: opened for
 * appending, and opened again under the same path, onto the same
 * descriptor, when the program is told to (SIGHUP). The writers keep
 * writing to the descriptor they know; dup2 swaps the file under it in one
 * step, so a line goes wholly to the old file or wholly to the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "users_proto.h"

/* A new descriptor on path, for appending; created 0640. -1 (errno). */
static int
open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0640);
}

int
up_logfile_open(up_logfile *lf, const char *path, int fd)
{
	int got;

	lf->path = path;
	lf->fd = -1;
	if (path == NULL || path[0] == '\0') {
		return EINVAL;
	}
	if ((got = open_append(path)) < 0) {
		return errno;
	}
	if (fd >= 0 && got != fd) {
		if (dup2(got, fd) < 0) {
			int e = errno;

			close(got);
			return e;
		}
		close(got);
		got = fd;
	}
	lf->fd = got;
	return 0;
}

int
up_logfile_reopen(up_logfile *lf)
{
	int got;

	if (lf->fd < 0) {
		return 0;
	}
	if ((got = open_append(lf->path)) < 0) {
		return errno; /* the old file stays in use */
	}
	if (dup2(got, lf->fd) < 0) {
		int e = errno;

		close(got);
		return e;
	}
	close(got);
	return 0;
}

void
up_logfile_fini(up_logfile *lf)
{
	if (lf->fd > STDERR_FILENO) {
		close(lf->fd);
	}
	lf->fd = -1;
}
