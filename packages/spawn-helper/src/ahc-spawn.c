/*
 * ahc-spawn: starts check commands for anycast-healthchecker from a small, constant process.
 *
 * Why (docs/design.md, "Spawning checks: the ahc-spawn helper"): Node's child_process.spawn
 * forks the daemon, and a fork costs in proportion to the size of the process that forks. This
 * helper is about 0.7 MiB resident (statically linked: it maps no shared library) and starts every
 * check with posix_spawnp (a vfork-style clone in glibc), so a check costs the same however big the
 * daemon is. Started as `ahc-spawn --watch-addresses`, it is instead the daemon's subscription to
 * the kernel's address changes (watch-addresses.c).
 *
 * The daemon's main thread starts it with stdin and stdout as pipes (stderr inherited, for this
 * program's own rare diagnostics) and the daemon's pid as the only argument. Single-threaded,
 * one poll() loop, nothing but libc.
 *
 * PROTOCOL. Every message, both ways, is a frame: u32 length (of what follows), then that many
 * bytes, whose first byte is the type. All integers are little-endian. A string is u32 length +
 * bytes (no NUL terminator). The TypeScript codec is packages/command/src/spawn-protocol.ts.
 *
 *   daemon -> helper
 *     0x01 run     u32 id, u32 timeout_ms, u32 max_output, u32 argc, argc x string
 *     0x02 cancel  u32 id                   kill the job's process group now, report "aborted"
 *   helper -> daemon
 *     0x81 started u32 id, u32 pid          right after the spawn
 *     0x82 done    u32 id, u8 kind, u8 truncated, i32 code, u32 signal, u64 duration_us,
 *                  string errno_name, string stdout, string stderr
 *         kind: 0 exited, 1 signaled, 2 timed-out, 3 spawn-error, 4 aborted.
 *         code: the exit code, or -1 when there is none (killed; spawn-error: 127 for ENOENT,
 *         126 otherwise). signal: the signal that ended the process, or 0. errno_name: for a
 *         spawn-error ("ENOENT", "EAGAIN", ...), else empty. duration_us: CLOCK_MONOTONIC from
 *         just before the spawn to the report. stdout, stderr: at most max_output bytes each;
 *         truncated is 1 when more was written (and read and dropped).
 *   Every run gets exactly one done (a started before it unless the spawn failed). A cancel of
 *   an id not running is ignored. A run whose id is running, an unknown type or a frame that
 *   does not parse is a protocol error: message on stderr, exit 2 (the daemon restarts it).
 *
 * A JOB, as runCommand does it in packages/command/src/run-command.ts: argv without a shell,
 * PATH lookup (a file without #! runs with /bin/sh, as execvp does), its own session and
 * process group, stdin /dev/null, stdout and stderr to pipes (every fd of the helper is
 * O_CLOEXEC), default signal dispositions and an empty signal mask. At the timeout (and at a cancel) the
 * whole group gets SIGKILL and the job is reported once the child is reaped. After an exit by
 * itself the job ends when both pipes close, or 50 ms after the exit if something holds them
 * open; either way whatever is left in the group then gets SIGKILL (the reasoning is in
 * run-command.ts's killGroup: the group id cannot be handed out while the group has members).
 * At most MAX_JOBS (4096; AHC_SPAWN_MAX_JOBS sets fewer, for tests) run at once; a run beyond
 * that is a spawn-error EAGAIN.
 *
 * LIFE. EOF on stdin (the daemon is gone or closed it), SIGTERM, or the death of the daemon
 * (PR_SET_PDEATHSIG delivers SIGTERM, handled as EOF): every running group gets SIGKILL and the
 * helper exits 0. EPIPE on stdout: the same, exit 0. Replies are buffered and written when
 * stdout is writable: the helper never blocks on the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "watch-addresses.h"

extern char **environ;

#define MAX_JOBS 4096
#define MAX_FRAME (1u << 20)
#define DRAIN_AFTER_EXIT_MS 50

enum { REQ_RUN = 0x01, REQ_CANCEL = 0x02, REP_STARTED = 0x81, REP_DONE = 0x82 };
enum { K_EXITED = 0, K_SIGNALED = 1, K_TIMED_OUT = 2, K_SPAWN_ERROR = 3, K_ABORTED = 4 };

struct buf {
	unsigned char *data;
	size_t len, cap;
};

struct job {
	uint32_t id;
	pid_t pid;
	int fd[2]; /* stdout, stderr read ends; -1 once closed */
	struct buf out[2];
	uint32_t max_output;
	int truncated;
	int64_t started_us, deadline_us, drain_us; /* drain_us: 0 until the child exited */
	int reaped, status;
	int timed_out, aborted;
};

static struct job *jobs[MAX_JOBS];
static size_t njobs, max_jobs = MAX_JOBS;
static struct buf inbuf, outbuf;
static int exiting;

/* Also watch-addresses.c's way out (declared in watch-addresses.h). */
void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ahc-spawn: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap == 0 ? 256 : b->cap;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = realloc(b->data, cap);
	if (p == NULL)
		die(1, "out of memory");
	b->data = p;
	b->cap = cap;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };
	buf_put(b, p, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(struct buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	buf_put(b, p, n);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOEXEC: return "ENOEXEC";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ETXTBSY: return "ETXTBSY";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case EFAULT: return "EFAULT";
	case ELIBBAD: return "ELIBBAD";
	default: return "UNKNOWN";
	}
}

static void reply_done(uint32_t id, int kind, int truncated, int32_t code, uint32_t sig, int64_t duration_us,
		       const char *err, const struct buf *out, const struct buf *errout)
{
	size_t errlen = err == NULL ? 0 : strlen(err);
	size_t olen = out == NULL ? 0 : out->len, elen = errout == NULL ? 0 : errout->len;
	put_u32(&outbuf, (uint32_t)(1 + 4 + 1 + 1 + 4 + 4 + 8 + 4 + errlen + 4 + olen + 4 + elen));
	put_u8(&outbuf, REP_DONE);
	put_u32(&outbuf, id);
	put_u8(&outbuf, (uint8_t)kind);
	put_u8(&outbuf, (uint8_t)(truncated ? 1 : 0));
	put_u32(&outbuf, (uint32_t)code);
	put_u32(&outbuf, sig);
	put_u64(&outbuf, (uint64_t)(duration_us < 0 ? 0 : duration_us));
	put_str(&outbuf, err, errlen);
	put_str(&outbuf, olen ? out->data : NULL, olen);
	put_str(&outbuf, elen ? errout->data : NULL, elen);
}

static void flush_replies(void);

static void kill_group(pid_t pid)
{
	if (pid > 0)
		kill(-pid, SIGKILL); /* ESRCH: nothing is left in the group */
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static struct job *find_job(uint32_t id, size_t *at)
{
	for (size_t i = 0; i < njobs; i++)
		if (jobs[i]->id == id) {
			if (at != NULL)
				*at = i;
			return jobs[i];
		}
	return NULL;
}

/* The job is over: nothing it started may outlive it, then one done. */
static void finish(size_t at)
{
	struct job *j = jobs[at];
	kill_group(j->pid);
	close_fd(&j->fd[0]);
	close_fd(&j->fd[1]);
	int kind, code = -1;
	uint32_t sig = 0;
	if (WIFEXITED(j->status))
		code = WEXITSTATUS(j->status);
	else if (WIFSIGNALED(j->status))
		sig = (uint32_t)WTERMSIG(j->status);
	if (j->aborted)
		kind = K_ABORTED;
	else if (j->timed_out)
		kind = K_TIMED_OUT;
	else
		kind = WIFSIGNALED(j->status) ? K_SIGNALED : K_EXITED;
	reply_done(j->id, kind, j->truncated, code, sig, now_us() - j->started_us, NULL, &j->out[0], &j->out[1]);
	free(j->out[0].data);
	free(j->out[1].data);
	free(j);
	jobs[at] = jobs[--njobs];
}

static void spawn_error(uint32_t id, int e, int64_t started_us)
{
	reply_done(id, K_SPAWN_ERROR, 0, e == ENOENT ? 127 : 126, 0, now_us() - started_us, errno_name(e), NULL, NULL);
}

/*
 * A file without a #! line (ENOEXEC): run it with /bin/sh, as execvp does and so Node's spawn,
 * so that such a check_cmd works the same through the helper. The file is the one the PATH
 * search finds, as execvp would run it.
 */
static int spawn_with_sh(pid_t *pid, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char **argv)
{
	char *found = NULL;
	if (strchr(argv[0], '/') != NULL) {
		found = strdup(argv[0]);
	} else {
		const char *path = getenv("PATH");
		if (path == NULL)
			path = "/bin:/usr/bin";
		for (const char *p = path; found == NULL;) {
			const char *end = strchr(p, ':');
			size_t n = end == NULL ? strlen(p) : (size_t)(end - p);
			char *candidate = malloc(n + strlen(argv[0]) + 3);
			if (candidate == NULL)
				return ENOMEM;
			if (n == 0) /* an empty element is the current directory */
				sprintf(candidate, "./%s", argv[0]);
			else
				sprintf(candidate, "%.*s/%s", (int)n, p, argv[0]);
			if (access(candidate, X_OK) == 0)
				found = candidate;
			else
				free(candidate);
			if (end == NULL)
				break;
			p = end + 1;
		}
	}
	if (found == NULL)
		return ENOEXEC;
	size_t argc = 0;
	while (argv[argc] != NULL)
		argc++;
	char **shargv = calloc(argc + 2, sizeof *shargv);
	if (shargv == NULL) {
		free(found);
		return ENOMEM;
	}
	shargv[0] = "/bin/sh";
	shargv[1] = found;
	for (size_t i = 1; i < argc; i++)
		shargv[i + 1] = argv[i];
	int rc = posix_spawn(pid, "/bin/sh", fa, attr, shargv, environ);
	free(shargv);
	free(found);
	return rc;
}

static void start_job(uint32_t id, uint32_t timeout_ms, uint32_t max_output, char **argv)
{
	int64_t started = now_us();
	if (njobs >= max_jobs) {
		spawn_error(id, EAGAIN, started);
		return;
	}
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			close_fd(&pout[i]);
			close_fd(&perr[i]);
		}
		spawn_error(id, e, started);
		return;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	if (rc == ENOEXEC)
		rc = spawn_with_sh(&pid, &fa, &attr, argv);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pout[1]);
	close(perr[1]);
	if (rc != 0) {
		close(pout[0]);
		close(perr[0]);
		spawn_error(id, rc, started);
		return;
	}
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	struct job *j = calloc(1, sizeof *j);
	if (j == NULL)
		die(1, "out of memory");
	j->id = id;
	j->pid = pid;
	j->fd[0] = pout[0];
	j->fd[1] = perr[0];
	j->max_output = max_output;
	j->started_us = started;
	j->deadline_us = started + (int64_t)timeout_ms * 1000;
	jobs[njobs++] = j;
	put_u32(&outbuf, 9);
	put_u8(&outbuf, REP_STARTED);
	put_u32(&outbuf, id);
	put_u32(&outbuf, (uint32_t)pid);
	/* At once: should this helper die now, the daemon must know whose group to kill. */
	flush_replies();
}

/* One frame's body (type byte first); a body that does not parse ends the helper. */
static void handle_frame(const unsigned char *p, uint32_t len)
{
	if (len < 5)
		die(2, "protocol error: frame of %u bytes", len);
	uint32_t id = get_u32(p + 1);
	switch (p[0]) {
	case REQ_CANCEL: {
		if (len != 5)
			die(2, "protocol error: cancel frame of %u bytes", len);
		struct job *j = find_job(id, NULL);
		if (j != NULL && !j->aborted) {
			j->aborted = 1;
			kill_group(j->pid);
		}
		return;
	}
	case REQ_RUN: {
		if (len < 17)
			die(2, "protocol error: run frame of %u bytes", len);
		if (find_job(id, NULL) != NULL)
			die(2, "protocol error: run of id %u, which is running", id);
		uint32_t timeout_ms = get_u32(p + 5), max_output = get_u32(p + 9), argc = get_u32(p + 13);
		if (argc == 0 || argc > (len - 17) / 4)
			die(2, "protocol error: run with argc %u in %u bytes", argc, len);
		char **argv = calloc(argc + 1, sizeof *argv);
		if (argv == NULL)
			die(1, "out of memory");
		uint32_t off = 17;
		for (uint32_t i = 0; i < argc; i++) {
			if (len - off < 4)
				die(2, "protocol error: run frame ends in argument %u", i);
			uint32_t n = get_u32(p + off);
			off += 4;
			if (n > len - off)
				die(2, "protocol error: argument %u of %u bytes past the frame", i, n);
			if (memchr(p + off, 0, n) != NULL)
				die(2, "protocol error: argument %u holds a NUL byte", i);
			argv[i] = strndup((const char *)p + off, n);
			if (argv[i] == NULL)
				die(1, "out of memory");
			off += n;
		}
		if (off != len)
			die(2, "protocol error: %u bytes after the arguments", len - off);
		if (argv[0][0] == '\0')
			spawn_error(id, ENOENT, now_us());
		else
			start_job(id, timeout_ms, max_output, argv);
		for (uint32_t i = 0; i < argc; i++)
			free(argv[i]);
		free(argv);
		return;
	}
	default:
		die(2, "protocol error: unknown message type 0x%02x", p[0]);
	}
}

static void read_requests(void)
{
	for (;;) {
		buf_reserve(&inbuf, 65536);
		ssize_t n = read(0, inbuf.data + inbuf.len, inbuf.cap - inbuf.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			exiting = 1; /* the daemon's end is broken: as EOF */
			return;
		}
		if (n == 0) {
			exiting = 1;
			break;
		}
		inbuf.len += (size_t)n;
	}
	size_t off = 0;
	while (inbuf.len - off >= 4) {
		uint32_t len = get_u32(inbuf.data + off);
		if (len > MAX_FRAME)
			die(2, "protocol error: frame of %u bytes (at most %u)", len, MAX_FRAME);
		if (inbuf.len - off - 4 < len)
			break;
		handle_frame(inbuf.data + off + 4, len);
		off += 4 + (size_t)len;
	}
	memmove(inbuf.data, inbuf.data + off, inbuf.len - off);
	inbuf.len -= off;
	if (exiting && inbuf.len != 0)
		die(2, "protocol error: %zu bytes of an unfinished frame at EOF", inbuf.len);
}

static void flush_replies(void)
{
	size_t off = 0;
	while (off < outbuf.len) {
		ssize_t n = write(1, outbuf.data + off, outbuf.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			exiting = 1; /* EPIPE: nobody reads the replies any more */
			outbuf.len = 0;
			return;
		}
		off += (size_t)n;
	}
	memmove(outbuf.data, outbuf.data + off, outbuf.len - off);
	outbuf.len -= off;
}

/* Read what a job's pipe has: kept up to max_output, the rest read and dropped. */
static void read_output(struct job *j, int which)
{
	unsigned char scratch[16384];
	for (;;) {
		struct buf *b = &j->out[which];
		size_t room = j->max_output > b->len ? j->max_output - b->len : 0;
		ssize_t n;
		if (room > 0) {
			buf_reserve(b, room < 4096 ? room : 4096);
			size_t space = b->cap - b->len;
			n = read(j->fd[which], b->data + b->len, space < room ? space : room);
			if (n > 0)
				b->len += (size_t)n;
		} else {
			n = read(j->fd[which], scratch, sizeof scratch);
			if (n > 0)
				j->truncated = 1;
		}
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_fd(&j->fd[which]); /* EOF, or an error: no more output from it */
		return;
	}
}

static void reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (size_t i = 0; i < njobs; i++) {
			struct job *j = jobs[i];
			if (j->pid != pid)
				continue;
			j->reaped = 1;
			j->status = status;
			j->drain_us = now_us() + DRAIN_AFTER_EXIT_MS * 1000;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--watch-addresses") == 0)
		return watch_addresses_main(argc, argv);
	/* The daemon's pid as argv[1]: if it died before the prctl took effect, leave now. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (argc > 1 && getppid() != (pid_t)strtol(argv[1], NULL, 10))
		return 0;
	if (argc <= 1 && getppid() == 1)
		return 0;
	/* Tests: a lower job limit (AHC_SPAWN_MAX_JOBS, at most MAX_JOBS). */
	const char *limit = getenv("AHC_SPAWN_MAX_JOBS");
	if (limit != NULL && atol(limit) > 0 && (size_t)atol(limit) < MAX_JOBS)
		max_jobs = (size_t)atol(limit);
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(1, "signalfd: %s", strerror(errno));
	/* Two pipes per job: allow as many as the hard limit lets. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fcntl(0, F_SETFD, FD_CLOEXEC);
	fcntl(1, F_SETFD, FD_CLOEXEC);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);

	static struct pollfd pfd[3 + 2 * MAX_JOBS];
	static struct job *owner[3 + 2 * MAX_JOBS];
	static int which[3 + 2 * MAX_JOBS];
	while (!exiting) {
		int64_t now = now_us();
		/* Jobs whose time is up: timed out (kill, report at the reap) or drained (report). */
		for (size_t i = 0; i < njobs;) {
			struct job *j = jobs[i];
			if (!j->reaped && !j->timed_out && !j->aborted && now >= j->deadline_us) {
				j->timed_out = 1;
				kill_group(j->pid);
			}
			if (j->reaped && (j->timed_out || j->aborted || (j->fd[0] < 0 && j->fd[1] < 0) || now >= j->drain_us)) {
				finish(i);
				continue;
			}
			i++;
		}
		int64_t wake = -1;
		nfds_t n = 0;
		pfd[n] = (struct pollfd){ .fd = 0, .events = POLLIN };
		owner[n++] = NULL;
		pfd[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		owner[n++] = NULL;
		if (outbuf.len > 0) {
			pfd[n] = (struct pollfd){ .fd = 1, .events = POLLOUT };
			owner[n++] = NULL;
		}
		for (size_t i = 0; i < njobs; i++) {
			struct job *j = jobs[i];
			int64_t due = j->reaped ? j->drain_us : (j->timed_out || j->aborted) ? -1 : j->deadline_us;
			if (due >= 0 && (wake < 0 || due < wake))
				wake = due;
			for (int w = 0; w < 2; w++) {
				if (j->fd[w] < 0)
					continue;
				pfd[n] = (struct pollfd){ .fd = j->fd[w], .events = POLLIN };
				owner[n] = j;
				which[n++] = w;
			}
		}
		int timeout = -1;
		if (wake >= 0) {
			int64_t ms = (wake - now + 999) / 1000;
			timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
		}
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die(1, "poll: %s", strerror(errno));
		}
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (owner[i] != NULL) {
				read_output(owner[i], which[i]);
			} else if (pfd[i].fd == 0) {
				read_requests();
			} else if (pfd[i].fd == 1) {
				flush_replies();
			} else {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
					if (si.ssi_signo != SIGCHLD)
						exiting = 1; /* SIGTERM (also the daemon's death), SIGINT, SIGHUP */
				reap();
			}
		}
		if (outbuf.len > 0)
			flush_replies();
	}
	/* Leaving: nothing a job started may outlive the helper. */
	for (size_t i = 0; i < njobs; i++)
		kill_group(jobs[i]->pid);
	return 0;
}
