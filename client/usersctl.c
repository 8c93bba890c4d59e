/*
 * usersctl - the command line client of usersd.
 *
 *   usersctl [--url URL]... [--user EMAIL] [--json] [--token-file F]
 *            [--password-file F] [--deadline MS]
 *            [--tls-ca F | --tls-insecure ...] COMMAND
 *
 * Secrets never come from the command line. The login password: the first
 * line of --password-file when given, else $USERSCTL_PASSWORD, else a
 * no-echo prompt when stdin is a terminal (explicit sources first, so
 * scripts run from a terminal do not stop at a prompt). A new user's
 * password likewise from --new-password-file, $USERSCTL_NEW_PASSWORD or a
 * prompt. `login` caches the bearer token in a 0600 file; other commands
 * use it, and log in first when there is none but --user and a password
 * are available (or again when the cached token is refused).
 *
 * Exit status: 0 success, 1 the daemon refused (or could not be reached),
 * 2 usage or local errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl_args.h"
#include "ctl_json.h"
#include "ctl_rows.h"
#include "users_flags.h"
#include "usersclient.h"

#define DEFAULT_URL "ipc://./var/usersd.sock"
#define SECRET_MAX  1024 /* a password (max_len of the contract) */
#define TOKEN_MAX   8192

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------------
 * Secrets
 */

/* The first line of a file, without its newline. 0 or -1. */
static int
read_first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		return -1;
	}
	if (fgets(buf, (int)size, f) == NULL) {
		buf[0] = '\0';
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

/* A no-echo prompt on the terminal at stdin. 0 or -1. */
static int
prompt_secret(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	bool restored = false;
	int rc = -1;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) != 0) {
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		return -1;
	}
	if (fgets(buf, (int)size, stdin) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		rc = 0;
	}
	restored = tcsetattr(STDIN_FILENO, TCSAFLUSH, &old) == 0;
	if (!restored) {
		fputc('\n', stderr);
	}
	return rc;
}

/*
 * A password from file, environment or prompt (in that order). Returns 0,
 * or -1 when none is available (message printed).
 */
static int
get_secret(const char *file, const char *env, const char *prompt, bool confirm,
	   char *buf, size_t size)
{
	const char *e;

	if (file != NULL) {
		if (read_first_line(file, buf, size) != 0) {
			fprintf(stderr, "usersctl: %s: %s\n", file,
				strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((e = getenv(env)) != NULL) {
		if (strlen(e) >= size) {
			fprintf(stderr, "usersctl: %s is too long\n", env);
			return -1;
		}
		snprintf(buf, size, "%s", e);
		return 0;
	}
	if (prompt_secret(prompt, buf, size) == 0) {
		char again[SECRET_MAX];
		int same;
		if (!confirm) {
			return 0;
		}
		if (prompt_secret("Again: ", again, sizeof(again)) != 0) {
			return -1;
		}
		same = strcmp(again, buf) == 0;
		explicit_bzero(again, sizeof(again));
		if (same) {
			return 0;
		}
		fprintf(stderr, "usersctl: the passwords differ\n");
		explicit_bzero(buf, size);
		return -1;
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * The configuration file (contexts: ctl_context) and the token cache
 */

/* $USERSCTL_CONFIG, else $XDG_CONFIG_HOME/usersd/usersctl.conf, else
 * ~/.config/usersd/usersctl.conf. 0 or -1 (no HOME). */
static int
config_path(char *buf, size_t size)
{
	const char *base;
	int n;

	if ((base = getenv("USERSCTL_CONFIG")) != NULL && base[0] != '\0') {
		n = snprintf(buf, size, "%s", base);
	} else if ((base = getenv("XDG_CONFIG_HOME")) != NULL &&
		   base[0] != '\0') {
		n = snprintf(buf, size, "%s/usersd/usersctl.conf", base);
	} else if ((base = getenv("HOME")) != NULL && base[0] != '\0') {
		n = snprintf(buf, size, "%s/.config/usersd/usersctl.conf",
			     base);
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

static int
token_path(const ctl_args *a, char *buf, size_t size)
{
	const char *base;
	int n;

	/* a context's token is its own: token-NAME */
	const char *sep = a->context != NULL ? "-" : "";
	const char *ctx = a->context != NULL ? a->context : "";

	if (a->token_file != NULL) {
		n = snprintf(buf, size, "%s", a->token_file);
	} else if ((base = getenv("XDG_RUNTIME_DIR")) != NULL &&
		   base[0] != '\0') {
		n = snprintf(buf, size, "%s/usersd/token%s%s", base, sep, ctx);
	} else if ((base = getenv("HOME")) != NULL && base[0] != '\0') {
		n = snprintf(buf, size, "%s/.config/usersd/token%s%s", base,
			     sep, ctx);
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/* mkdir -p of the directories above path, each new one 0700. */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		return -1;
	}
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* The cached token into buf ("" when there is none). */
static void
token_load(const ctl_args *a, char *buf, size_t size)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (token_path(a, path, sizeof(path)) == 0 &&
	    read_first_line(path, buf, size) != 0) {
		buf[0] = '\0';
	}
}

/* Writes the token to its file (0600, atomically). 0 or -1. */
static int
token_save(const ctl_args *a, const char *token)
{
	char path[PATH_MAX];
	char tmp[PATH_MAX + 16];
	size_t len = strlen(token);
	int fd = -1;
	int rc = -1;

	if (token_path(a, path, sizeof(path)) != 0 || make_parents(path) != 0) {
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0) { /* mode 0600 */
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, token, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (rc != 0) {
		fprintf(stderr,
			"usersctl: cannot write the token file %s: %s\n", path,
			strerror(errno));
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Output
 */

static void
print_failure(const uc_result *res)
{
	const Users__V1__ResponseStatus *st = res->error;
	const char *msg = (st != NULL && st->message != NULL)
			      ? st->message
			      : up_status_message(res->status);

	fprintf(stderr, "usersctl: %s\n", msg);
	for (size_t i = 0; st != NULL && i < st->n_errors; i++) {
		const Users__V1__ResponseError *e = st->errors[i];
		fprintf(stderr, "usersctl:   %s: %s%s%s%s\n",
			e->field_name ? e->field_name : "-",
			e->message ? e->message : "", e->error_code ? " (" : "",
			e->error_code ? e->error_code : "",
			e->error_code ? ")" : "");
	}
}

/* Prints a response (--json: as usersgw sends it); hide: fields left out
 * (tokens). 0 or -1. */
static int
print_response(const ctl_args *a, ProtobufCMessage *msg,
	       const char *const *hide)
{
	if (ctl_print_message(stdout, msg, a->output, hide) != 0) {
		fprintf(stderr, "usersctl: cannot print the answer\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Commands
 */

/* Logs in as --user and caches the token. res: the answer (caller's). */
static int
do_login(uc_client *c, const ctl_args *a, uc_result *res)
{
	char pw[SECRET_MAX];
	char prompt[300];
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(prompt, sizeof(prompt), "Password for %s: ", a->user);
	if (get_secret(a->password_file, "USERSCTL_PASSWORD", prompt, false, pw,
		       sizeof(pw)) != 0) {
		fprintf(stderr, "usersctl: no password (use --password-file, "
				"USERSCTL_PASSWORD or a terminal)\n");
		return EXIT_USAGE;
	}
	rc = uc_login(c, a->user, pw, res);
	explicit_bzero(pw, sizeof(pw));
	if (rc != UP_OK) {
		print_failure(res);
		return EXIT_REFUSED;
	}
	if (token_save(a, uc_bearer(c)) != 0) {
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static bool
can_login(const ctl_args *a)
{
	return a->user != NULL &&
	       (a->password_file != NULL || getenv("USERSCTL_PASSWORD") ||
		isatty(STDIN_FILENO));
}

static int
run_login(uc_client *c, const ctl_args *a)
{
	static const char *const hide[] = {"bearerToken", "refreshToken", NULL};
	uc_result res;
	int rc;

	if (a->user == NULL) {
		fprintf(stderr, "usersctl: login needs --user EMAIL\n");
		return EXIT_USAGE;
	}
	rc = do_login(c, a, &res);
	if (rc == EXIT_OK && print_response(a, res.response, hide) != 0) {
		rc = EXIT_USAGE;
	}
	uc_result_fini(&res);
	return rc;
}

/*
 * Sets the client's credentials: the cached token, else a login when one
 * can be made. *cached: a cached token is in use. EXIT_OK or the exit
 * status of a failed login.
 */
static int
session_open(uc_client *c, const ctl_args *a, bool *cached)
{
	char token[TOKEN_MAX];
	uc_result res = {0};
	int rc = EXIT_OK;

	*cached = false;
	token_load(a, token, sizeof(token));
	if (token[0] != '\0') {
		*cached = uc_set_bearer(c, token) == 0;
	} else if (can_login(a)) {
		rc = do_login(c, a, &res);
		uc_result_fini(&res);
	}
	explicit_bzero(token, sizeof(token));
	return rc;
}

/*
 * One call; when a cached token turns out stale, logs in again (once per
 * session) and calls again. res is filled either way. EXIT_OK, or the
 * exit status of a failed login (res then empty).
 */
static int
session_call(uc_client *c, const ctl_args *a, bool *cached,
	     const ProtobufCMessage *msg, const uc_call_opts *opts,
	     uc_result *res)
{
	int rc;

	uc_call(c, a->cmd->method, msg, opts, res);
	if (res->status == UP_UNAUTHENTICATED && *cached && can_login(a)) {
		*cached = false;
		uc_result_fini(res);
		if ((rc = do_login(c, a, res)) != EXIT_OK) {
			return rc;
		}
		uc_result_fini(res);
		uc_call(c, a->cmd->method, msg, opts, res);
	}
	return EXIT_OK;
}

static int
run_command(uc_client *c, const ctl_args *a)
{
	ctl_request req;
	uc_result res = {0};
	char err[256];
	char newpw[SECRET_MAX];
	bool cached = false;
	int rc = EXIT_USAGE;

	newpw[0] = '\0';
	if (ctl_build(a, &req, err, sizeof(err)) != 0) {
		fprintf(stderr, "usersctl: %s\n", err);
		goto out;
	}
	if (req.password_slot != NULL) {
		if (get_secret(a->new_password_file, "USERSCTL_NEW_PASSWORD",
			       "New user's password: ", true, newpw,
			       sizeof(newpw)) != 0) {
			fprintf(stderr,
				"usersctl: no password for the user (use "
				"--new-password-file, USERSCTL_NEW_PASSWORD or "
				"a terminal)\n");
			goto out;
		}
		*req.password_slot = newpw;
	}
	if ((rc = session_open(c, a, &cached)) != EXIT_OK ||
	    (rc = session_call(c, a, &cached, req.msg, NULL, &res)) !=
		EXIT_OK) {
		goto out;
	}
	if (res.status != UP_OK) {
		print_failure(&res);
		rc = EXIT_REFUSED;
		goto out;
	}
	rc = print_response(a, res.response, NULL) == 0 ? EXIT_OK : EXIT_USAGE;
out:
	uc_result_fini(&res);
	ctl_request_fini(&req);
	explicit_bzero(newpw, sizeof(newpw));
	return rc;
}

/* ------------------------------------------------------------------------
 * import and export: many calls, a progress line on a terminal
 */

#define IMPORT_DEADLINE_MS 60000
#define EXIT_INTERRUPTED   130

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
	signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends at once */
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct tally {
	double start, last_shown;
	uint64_t rows, created, unchanged, refused;
	uint64_t bytes, size; /* of the input, when a file's size is known */
	bool tty;
} tally;

static void
progress(tally *t, bool force)
{
	double now = now_s(), el = now - t->start;
	char eta[32] = "";

	if (!t->tty || (!force && now - t->last_shown < 0.25)) {
		return;
	}
	t->last_shown = now;
	if (t->size > 0 && t->bytes > 0 && t->bytes < t->size && el > 0) {
		double left =
		    el * (double)(t->size - t->bytes) / (double)t->bytes;
		snprintf(eta, sizeof(eta), ", ETA %d:%02d", (int)left / 60,
			 (int)left % 60);
	}
	fprintf(
	    stderr,
	    "\r%llu rows, %.0f rows/s: %llu created, %llu unchanged, "
	    "%llu refused%s   ",
	    (unsigned long long)t->rows, el > 0 ? (double)t->rows / el : 0.0,
	    (unsigned long long)t->created, (unsigned long long)t->unchanged,
	    (unsigned long long)t->refused, eta);
}

static void
progress_end(tally *t)
{
	if (t->tty) {
		fputc('\n', stderr);
	}
}

static void
print_refusal(int64_t row, const char *email, const char *message,
	      const char *code)
{
	fprintf(stderr, "usersctl: row %lld%s%s%s: %s%s%s%s\n", (long long)row,
		email ? " (" : "", email ? email : "", email ? ")" : "",
		message ? message : "refused", code ? " (" : "",
		code ? code : "", code ? ")" : "");
}

static void
records_free(Users__V1__UserRecord **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		protobuf_c_message_free_unpacked(&v[i]->base, NULL);
	}
}

/* Sends one call of rows; tallies its answer. EXIT_OK or a failure. */
static int
import_batch(uc_client *c, const ctl_args *a, bool *cached,
	     Users__V1__UserRecord **rows, size_t n, tally *t)
{
	Users__V1__ImportUsers req = USERS__V1__IMPORT_USERS__INIT;
	const Users__V1__ImportUsersResponse *r;
	uc_call_opts opts = {0};
	uc_result res = {0};
	int rc;

	opts.deadline_ms = a->deadline_ms > IMPORT_DEADLINE_MS
			       ? a->deadline_ms
			       : IMPORT_DEADLINE_MS;
	req.users = rows;
	req.n_users = n;
	if ((rc = session_call(c, a, cached, &req.base, &opts, &res)) !=
	    EXIT_OK) {
		return rc;
	}
	if (res.status != UP_OK) {
		progress_end(t);
		print_failure(&res);
		uc_result_fini(&res);
		return EXIT_REFUSED;
	}
	r = (const Users__V1__ImportUsersResponse *)res.response;
	t->rows += n;
	t->created += (uint64_t)r->created;
	t->unchanged += (uint64_t)r->unchanged;
	t->refused += (uint64_t)r->refused;
	if (r->n_refusals > 0) {
		progress_end(t);
	}
	for (size_t i = 0; i < r->n_refusals; i++) {
		const Users__V1__ImportRefusal *f = r->refusals[i];
		print_refusal(f->row, f->email_address, f->message,
			      f->error_code);
	}
	uc_result_fini(&res);
	return EXIT_OK;
}

static int
run_import(uc_client *c, const ctl_args *a)
{
	const char *path = a->pos[0];
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *in = from_stdin ? stdin : fopen(path, "r");
	Users__V1__UserRecord **batch = NULL;
	size_t take = a->has_take && a->take > 0 ? (size_t)a->take : 1000;
	size_t n = 0;
	int64_t next_row = a->resume_from > 0 ? a->resume_from : 1;
	ctl_rows rows = {0};
	tally t = {0};
	char err[256];
	bool cached = false, done = false;
	struct stat st;
	int rc = EXIT_USAGE, got, first;

	if (in == NULL) {
		fprintf(stderr, "usersctl: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (take > 1000) {
		fprintf(stderr, "usersctl: import: --take is at most 1000\n");
		goto out;
	}
	first = getc(in);
	while (first == ' ' || first == '\t' || first == '\r' ||
	       first == '\n') {
		first = getc(in);
	}
	if (first != EOF) {
		ungetc(first, in);
	}
	if (ctl_rows_open(&rows, in,
			  a->format != NULL
			      ? (strcmp(a->format, "csv") == 0 ? CTL_ROWS_CSV
							       : CTL_ROWS_JSONL)
			      : ctl_rows_guess(from_stdin ? NULL : path, first),
			  err, sizeof(err)) != 0) {
		fprintf(stderr, "usersctl: %s: %s\n", path, err);
		goto out;
	}
	if ((batch = calloc(take, sizeof(*batch))) == NULL) {
		goto out;
	}
	t.tty = isatty(STDERR_FILENO);
	t.start = now_s();
	if (!from_stdin && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
		t.size = (uint64_t)st.st_size;
	}
	if ((rc = session_open(c, a, &cached)) != EXIT_OK) {
		goto out;
	}
	signal(SIGINT, on_interrupt);
	while (!done && !interrupted) {
		Users__V1__UserRecord *m;

		got = ctl_rows_next(&rows, &m, err, sizeof(err));
		if (got == -2) {
			progress_end(&t);
			fprintf(stderr, "usersctl: %s: %s\n", path, err);
			rc = EXIT_USAGE;
			break;
		}
		if (got == -1 && rows.row >= next_row) {
			t.rows++;
			t.refused++;
			progress_end(&t);
			print_refusal(rows.row, NULL, err, "Unreadable");
		}
		if (got == 1 && m->row < next_row) {
			protobuf_c_message_free_unpacked(&m->base, NULL);
		} else if (got == 1) {
			batch[n++] = m;
		}
		done = got == 0;
		if (n == take || (done && n > 0)) {
			rc = import_batch(c, a, &cached, batch, n, &t);
			if (rc != EXIT_OK) {
				fprintf(stderr,
					"usersctl: nothing of rows %lld to "
					"%lld was stored; resume with "
					"--resume-from %lld\n",
					(long long)batch[0]->row,
					(long long)batch[n - 1]->row,
					(long long)batch[0]->row);
				break;
			}
			next_row = batch[n - 1]->row + 1;
			records_free(batch, n);
			n = 0;
			t.bytes = rows.bytes;
			progress(&t, false);
		}
	}
	records_free(batch, n);
	progress(&t, true);
	progress_end(&t);
	if (interrupted) {
		fprintf(stderr,
			"usersctl: interrupted; every row before %lld is "
			"stored: resume with --resume-from %lld\n",
			(long long)next_row, (long long)next_row);
		rc = EXIT_INTERRUPTED;
	}
	printf("import: %llu rows in %.1f s: %llu created, %llu unchanged, "
	       "%llu refused\n",
	       (unsigned long long)t.rows, now_s() - t.start,
	       (unsigned long long)t.created, (unsigned long long)t.unchanged,
	       (unsigned long long)t.refused);
	if (rc == EXIT_OK && t.refused > 0) {
		rc = EXIT_REFUSED;
	}
out:
	free(batch);
	ctl_rows_fini(&rows);
	if (!from_stdin) {
		fclose(in);
	}
	return rc;
}

static int
run_export(uc_client *c, const ctl_args *a)
{
	Users__V1__ExportUsers req = USERS__V1__EXPORT_USERS__INIT;
	bool csv = a->format != NULL && strcmp(a->format, "csv") == 0;
	char *after = NULL;
	bool cached = false;
	tally t = {0};
	int rc;

	req.has_take = a->has_take;
	req.take = a->take;
	req.has_include_password_hashes = a->password_hashes;
	req.include_password_hashes = a->password_hashes;
	t.tty = isatty(STDERR_FILENO);
	t.start = now_s();
	if ((rc = session_open(c, a, &cached)) != EXIT_OK) {
		return rc;
	}
	if (csv && ctl_rows_csv_header(stdout, a->password_hashes) != 0) {
		return EXIT_USAGE;
	}
	do {
		const Users__V1__ExportUsersResponse *r;
		uc_result res = {0};

		req.after = after;
		if ((rc = session_call(c, a, &cached, &req.base, NULL, &res)) !=
		    EXIT_OK) {
			break;
		}
		if (res.status != UP_OK) {
			progress_end(&t);
			print_failure(&res);
			uc_result_fini(&res);
			rc = EXIT_REFUSED;
			break;
		}
		r = (const Users__V1__ExportUsersResponse *)res.response;
		for (size_t i = 0; rc == EXIT_OK && i < r->n_results; i++) {
			if ((csv ? ctl_rows_csv_write(stdout, r->results[i],
						      a->password_hashes)
				 : ctl_rows_json_write(stdout,
						       r->results[i])) != 0) {
				fprintf(stderr, "usersctl: cannot write\n");
				rc = EXIT_USAGE;
			}
		}
		t.rows += r->n_results;
		free(after);
		after = r->next != NULL ? strdup(r->next) : NULL;
		uc_result_fini(&res);
		progress(&t, false);
	} while (rc == EXIT_OK && after != NULL);
	free(after);
	progress_end(&t);
	fprintf(stderr, "export: %llu users in %.1f s\n",
		(unsigned long long)t.rows, now_s() - t.start);
	return fflush(stdout) == 0 ? rc : EXIT_USAGE;
}

/*
 * Before exiting without a call (a usage error found after the client was
 * opened), waits a little for the connections being made to finish their
 * handshake: hanging up in the middle of one leaves an nng 1.5 listener
 * stuck (usersd heals it, but only after seconds). Bounded: 2 s at most
 * (when a daemon is not there).
 */
static void
settle(uc_client *c)
{
	struct timespec tick = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 200; i++) {
		bool all = true;
		for (size_t d = 0; d < uc_daemon_count(c); d++) {
			uc_daemon_stats st;
			if (uc_daemon_stats_get(c, d, &st) != 0 ||
			    !st.connected) {
				all = false;
			}
		}
		if (all) {
			return;
		}
		nanosleep(&tick, NULL);
	}
}

int
main(int argc, char **argv)
{
	static const char *const default_urls[] = {DEFAULT_URL};
	ctl_args a;
	uc_options o = {0};
	uc_client *c = NULL;
	char err[256];
	static char env_urls[4096];
	static char cfg_text[65536]; /* the context's values point here */
	char cfg_path[PATH_MAX];
	int rv;
	int rc;

	if (ctl_parse(&a, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "usersctl: %s\n", err);
		return EXIT_USAGE;
	}
	if (a.version) {
		up_flags_version("usersctl", stdout);
		return EXIT_OK;
	}
	if (a.help) {
		ctl_usage(stdout, &a);
		return EXIT_OK;
	}
	if (strcmp(a.cmd->group, "completion") == 0) {
		if (a.n_pos != 1 || strcmp(a.pos[0], "bash") != 0) {
			fprintf(stderr, "usersctl: completion: only bash\n");
			return EXIT_USAGE;
		}
		ctl_completion(stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_REFUSED;
	}
	if (ctl_env(&a, env_urls, sizeof(env_urls), err, sizeof(err)) != 0) {
		fprintf(stderr, "usersctl: %s\n", err);
		return EXIT_USAGE;
	}
	if (a.cmd->method == NULL) {
		/* usersctl policy: the contract's own words, no daemon */
		return up_meta_load() == 0 && up_policy_markdown(stdout) == 0 &&
			       fflush(stdout) == 0
			   ? EXIT_OK
			   : EXIT_REFUSED;
	}
	if (config_path(cfg_path, sizeof(cfg_path)) != 0) {
		cfg_path[0] = '\0';
	}
	if (ctl_context(&a, cfg_path[0] ? cfg_path : NULL, cfg_text,
			sizeof(cfg_text), err, sizeof(err)) != 0) {
		fprintf(stderr, "usersctl: %s\n", err);
		return EXIT_USAGE;
	}
	o.urls = a.n_urls > 0 ? a.urls : default_urls;
	o.n_urls = a.n_urls > 0 ? a.n_urls : 1;
	o.deadline_ms = a.deadline_ms;
	o.tls_ca_file = a.tls_ca;
	o.tls_cert_file = a.tls_cert;
	o.tls_key_file = a.tls_key;
	o.tls_server_name = a.tls_server_name;
	o.tls_insecure = a.tls_insecure;
	if ((rv = uc_client_open(&c, &o)) != 0) {
		fprintf(stderr, "usersctl: %s\n", uc_client_open_error());
		if (rv == UP_FAILED_PRECONDITION) {
			fprintf(stderr,
				"usersctl: --tls-ca FILE names that CA; "
				"--tls-insecure skips the check (tests "
				"only)\n");
		}
		return EXIT_USAGE;
	}
	if (strcmp(a.cmd->group, "import") == 0) {
		rc = run_import(c, &a);
	} else if (strcmp(a.cmd->group, "export") == 0) {
		rc = run_export(c, &a);
	} else if (a.cmd->name == NULL) {
		rc = run_login(c, &a);
	} else {
		rc = run_command(c, &a);
	}
	if (rc == EXIT_USAGE) {
		settle(c);
	}
	fflush(stdout);
	/*
	 * No uc_client_close(): every call has finished, and nng_close() can
	 * hang at exit (docs/decisions.md, section 13); the process exit
	 * frees everything.
	 */
	return rc;
}
