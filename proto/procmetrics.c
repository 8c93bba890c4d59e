/*
 * procmetrics.c - the process_* series every Prometheus client library
 * exports, and <prog>_build_info, for the /metrics of usersd and usersgw:
 * read from /proc at each scrape.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "users_proto.h"

/* The boot time (btime of /proc/stat), seconds since the epoch; 0. */
static unsigned long long
boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	unsigned long long bt = 0;

	if (f == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "btime %llu", &bt) == 1) {
			break;
		}
	}
	fclose(f);
	return bt;
}

static long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL) {
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

int
up_metrics_process(const char *prog, char *buf, size_t size)
{
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0;
	double tck = (double)sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	struct rlimit rl = {0, 0};
	char stat[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t got = 0;
	int n;

	if (f != NULL) {
		got = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
	}
	stat[got] = '\0';
	/* after "pid (comm) ": state is field 3; utime 14, stime 15,
	 * starttime 22, vsize 23, rss 24 */
	p = strrchr(stat, ')');
	if (p == NULL ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
		   &utime, &stime, &start, &vsize, &rss) != 5) {
		return -1;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	n = snprintf(
	    buf, size,
	    "# HELP process_cpu_seconds_total User and system CPU time.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %.2f\n"
	    "# HELP process_resident_memory_bytes Resident memory.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %lld\n"
	    "# HELP process_virtual_memory_bytes Virtual memory.\n"
	    "# TYPE process_virtual_memory_bytes gauge\n"
	    "process_virtual_memory_bytes %llu\n"
	    "# HELP process_start_time_seconds Start time, seconds since the "
	    "epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.2f\n"
	    "# HELP process_open_fds Open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds %ld\n"
	    "# HELP process_max_fds The limit of open file descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds %llu\n"
	    "# HELP %s_build_info The version of the program, always 1.\n"
	    "# TYPE %s_build_info gauge\n"
	    "%s_build_info{version=\"%s\"} 1\n",
	    (double)(utime + stime) / tck, rss * page, vsize,
	    (double)boot_time() + (double)start / tck, open_fds(),
	    (unsigned long long)rl.rlim_cur, prog, prog, prog, USERS_VERSION);
	return n < 0 || (size_t)n >= size ? -1 : n;
}
