/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the standalone reproducers of this directory: a
 * scratch file system on a loop device (or a brd ramdisk) of its own,
 * short writes from a buffer whose tail is unmapped, fail-nth fault
 * injection with the injected fault's call trace, and the verdict on a
 * known kernel issue.  Each program is a table of cases; repro_main()
 * runs them and prints TAP through kselftest.h.
 *
 * A case ends as PASS, FAIL, SKIP (a prerequisite is missing; the reason
 * says which) or XFAIL: the kernel showed a known issue on its exact
 * signature, "ok N name # XFAIL known-issue:<id> <evidence>".  With
 * --known=fail or EXT4_BWT_KNOWN=fail a known issue is a failure.  The
 * ids are those of the KUnit suite (fs/ext4/iomap_write_test.c) and of
 * buffered_write_test.c.
 */
#ifndef EXT4_REPRO_H
#define EXT4_REPRO_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest.h"

#define KIB			1024L
#define MiB			(1024L * KIB)
#define KERNEL_PAGE_POISON	0xaa	/* PAGE_POISON, include/linux/poison.h */

/* ---- how a case ended ---- */

struct result {
	int code;		/* KSFT_PASS, KSFT_FAIL, KSFT_SKIP, KSFT_XFAIL */
	char msg[512];
};

static bool repro_strict;	/* --known=fail */

/* A wrong outcome: the first one is kept. */
static inline __printf(2, 3) void fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->code == KSFT_FAIL)
		return;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->code = KSFT_FAIL;
}

/* A prerequisite is missing. */
static inline __printf(2, 3) void skip(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->code = KSFT_SKIP;
}

/* The known issue @id showed on its exact signature, seen as @fmt. */
static inline __printf(3, 4) void known_issue(struct result *r, const char *id,
					      const char *fmt, ...)
{
	char ev[400];
	va_list ap;

	if (r->code == KSFT_FAIL)
		return;
	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	snprintf(r->msg, sizeof(r->msg), "known-issue:%s %s%s", id, ev,
		 repro_strict ? " (failed by --known=fail)" : "");
	r->code = repro_strict ? KSFT_FAIL : KSFT_XFAIL;
}

/* ---- small helpers ---- */

static inline int run_quiet(char *const argv[])
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static inline int write_file(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -1;
	close(fd);
	return ret;
}

static inline int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline bool kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int a = 0, b = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &a, &b) != 2)
		return false;
	return a > major || (a == major && b >= minor);
}

static const char * __maybe_unused err_name(long ret, int err)
{
	if (ret >= 0)
		return "-";
	switch (err) {
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	default: return strerror(err);
	}
}

/* The byte at file offset @off of the data a case writes: never zero. */
static inline unsigned char pattern(long off)
{
	return 1 + (off * 7 + (off >> 8)) % 251;
}

/*
 * Freed pages hold PAGE_POISON (0xaa) when the kernel has
 * CONFIG_PAGE_POISONING and was booted with page_poison=1: bytes nobody
 * wrote then read back as 0xaa, deterministically.  Otherwise they may
 * be anything, zeros included.
 */
static inline bool page_poison_on(void)
{
	char cmdline[4096], line[256];
	static int on = -1;
	FILE *f;

	if (on >= 0)
		return on;
	on = 0;
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) ||
	    (!strstr(cmdline, "page_poison=1") &&
	     !strstr(cmdline, "page_poison=on")))
		return on;
	f = fopen("/proc/kallsyms", "r");
	while (f && !on && fgets(line, sizeof(line), f))
		on = !!strstr(line, " __kernel_poison_pages\n");
	if (f)
		fclose(f);
	return on;
}

/* ---- the scratch file system ---- */

/*
 * A file system to make: @mkfs is the mkfs command line without the
 * device; @opts the mount options.  mkfs.xfs refuses less than 300 MB;
 * the backing file is sparse.  @brd asks for a ramdisk instead of a loop
 * device: brd completes bios in the submitter's context.
 */
struct fs_kind {
	const char *type;
	const char *mkfs;
	const char *opts;
	long bytes;
	bool brd;
};

#define EXT4_BYTES	(64 * MiB)
#define XFS_BYTES	(320 * MiB)
#define MKFS_EXT4	"mkfs.ext4 -q -F -E nodiscard "
#define MKFS_XFS	"mkfs.xfs -q -f -K "

/* e.g. EXT4("-b 1024", "buffered_iomap"), XFS("-b size=1024") */
#define EXT4(mkfs_args, mount_opts) { .type = "ext4", \
	.mkfs = MKFS_EXT4 mkfs_args, .opts = mount_opts, .bytes = EXT4_BYTES }
#define XFS(mkfs_args) { .type = "xfs", .mkfs = MKFS_XFS mkfs_args, \
	.opts = "", .bytes = XFS_BYTES }

struct scratch {
	const struct fs_kind *k;
	char dir[128], image[160], mnt[160], dev[160];
	int dev_fd;
	bool mounted;
};

/* Attach @s->image to a free loop device, kept open (autoclear). */
static inline int attach_loop(struct scratch *s)
{
	struct loop_config cfg = { .info.lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl, img, nr, tries, fd;

	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		return -1;
	img = open(s->image, O_RDWR);
	cfg.fd = img;
	for (tries = 0; img >= 0 && tries < 8; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			break;
		snprintf(s->dev, sizeof(s->dev), "/dev/loop%d", nr);
		fd = open(s->dev, O_RDWR);
		if (fd >= 0 && !ioctl(fd, LOOP_CONFIGURE, &cfg)) {
			s->dev_fd = fd;
			break;
		}
		if (fd >= 0)
			close(fd);
		if (errno != EBUSY)	/* else another user took it: retry */
			break;
	}
	if (img >= 0)
		close(img);
	close(ctl);
	return s->dev_fd < 0 ? -1 : 0;
}

/*
 * Create a brd ramdisk of our own: open a node for the first ramdisk
 * minor that has no disk yet, which makes brd_probe() add it
 * (CONFIG_BLOCK_LEGACY_AUTOLOAD).  Every page is written once so that
 * brd allocates nothing later, while faults are injected; the pages are
 * freed by a discard in scratch_destroy().
 */
static inline int attach_brd(struct scratch *s)
{
	static char zero[64 * KIB];
	char sys[64];
	long size, off;
	int nr;

	for (nr = 0; nr < 64; nr++) {
		snprintf(sys, sizeof(sys), "/sys/block/ram%d", nr);
		if (access(sys, F_OK))
			break;
	}
	snprintf(s->dev, sizeof(s->dev), "%s/ram%d", s->dir, nr);
	if (mknod(s->dev, S_IFBLK | 0600, makedev(1, nr)))
		return -1;
	s->dev_fd = open(s->dev, O_RDWR);
	if (s->dev_fd < 0 || ioctl(s->dev_fd, BLKGETSIZE64, &size))
		return -1;
	for (off = 0; off < size; off += sizeof(zero))
		if (pwrite(s->dev_fd, zero, sizeof(zero), off) != sizeof(zero))
			return -1;
	return fsync(s->dev_fd);
}

static inline int scratch_mount(struct scratch *s)
{
	if (mount(s->dev, s->mnt, s->k->type, 0, s->k->opts))
		return -1;
	s->mounted = true;
	return 0;
}

static inline int scratch_umount(struct scratch *s)
{
	if (s->mounted && umount(s->mnt))
		return -1;
	s->mounted = false;
	return 0;
}

/* Unmount and mount again: nothing of the files stays cached. */
static inline int scratch_remount(struct scratch *s)
{
	return scratch_umount(s) ? -1 : scratch_mount(s);
}

/* Run "@cmd @dev" (@cmd split at blanks); its exit status. */
static inline int run_on_dev(struct scratch *s, const char *cmd)
{
	char line[256], *argv[24], *save;
	int argc = 0;

	snprintf(line, sizeof(line), "%s", cmd);
	for (argv[0] = strtok_r(line, " ", &save); argv[argc] && argc < 22;)
		argv[++argc] = strtok_r(NULL, " ", &save);
	argv[argc++] = s->dev;
	argv[argc] = NULL;
	return run_quiet(argv);
}

/* The file system checker's read-only run: 0 when clean. */
static inline int scratch_check(struct scratch *s)
{
	return run_on_dev(s, strcmp(s->k->type, "xfs") ? "e2fsck -fn" :
			  "xfs_repair -n");
}

/*
 * Unmount, check, detach and remove everything scratch_create() made;
 * a failure of the unmount or the check goes into @r.
 */
static inline void scratch_destroy(struct scratch *s, struct result *r)
{
	unsigned long long range[2] = { 0, ~0ULL };
	bool made = s->dev_fd >= 0;
	int st = 0;

	if (scratch_umount(s))
		fail(r, "umount %s: %s", s->mnt, strerror(errno));
	else if (made)
		st = scratch_check(s);
	if (st)
		fail(r, "%s %s after the case: exit status %d",
		     strcmp(s->k->type, "xfs") ? "e2fsck -fn" : "xfs_repair -n",
		     s->dev, st);
	if (made && s->k->brd)
		ioctl(s->dev_fd, BLKDISCARD, range);	/* free brd's pages */
	if (made)
		close(s->dev_fd);
	s->dev_fd = -1;
	if (s->k->brd)
		unlink(s->dev);
	unlink(s->image);
	rmdir(s->mnt);
	rmdir(s->dir);
}

/*
 * Make @k on a device of our own and mount it in a new directory under
 * $TMPDIR.  Returns 0, or -1 with @r saying why (a skip when something
 * the case needs is missing).
 */
static inline int scratch_create(struct scratch *s, const struct fs_kind *k,
				 struct result *r)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[160];
	int fd, err;

	memset(s, 0, sizeof(*s));
	s->k = k;
	s->dev_fd = -1;
	if (geteuid()) {
		skip(r, "needs root (mount, loop devices)");
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/ext4_repro.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		fail(r, "mkdtemp %s: %s", s->dir, strerror(errno));
		return -1;
	}
	snprintf(s->image, sizeof(s->image), "%s/image", s->dir);
	snprintf(s->mnt, sizeof(s->mnt), "%s/mnt", s->dir);
	mkdir(s->mnt, 0700);
	if (k->brd) {
		if (attach_brd(s)) {
			skip(r, "no brd ramdisk could be made (CONFIG_BLK_DEV_RAM): %s",
			     strerror(errno));
			goto out;
		}
	} else {
		fd = open(s->image, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || ftruncate(fd, k->bytes)) {
			fail(r, "backing file %s: %s", s->image, strerror(errno));
			goto out;
		}
		close(fd);
		if (attach_loop(s)) {
			skip(r, "no free loop device: %s", strerror(errno));
			goto out;
		}
	}
	snprintf(cmd, sizeof(cmd), "%s", k->mkfs);
	err = run_on_dev(s, cmd);
	if (err == 127) {
		skip(r, "%.*s not installed", (int)strcspn(cmd, " "), cmd);
		goto out;
	}
	if (err) {
		fail(r, "%s %s: exit status %d", k->mkfs, s->dev, err);
		goto out;
	}
	if (!scratch_mount(s))
		return 0;
	err = errno;
	if (err == ENODEV)
		skip(r, "no %s in this kernel", k->type);
	else if (err == EINVAL && strstr(k->opts, "buffered_iomap"))
		skip(r, "buffered_iomap rejected: no ext4 iomap write path");
	else
		fail(r, "mount -t %s -o '%s' %s: %s", k->type, k->opts, s->dev,
		     strerror(err));
out:
	scratch_destroy(s, r);
	return -1;
}

/* Open (create) @name in the scratch file system. */
static inline int scratch_open(struct scratch *s, const char *name, int flags)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", s->mnt, name);
	return open(path, O_RDWR | flags, 0600);
}

static inline unsigned int scratch_block_size(struct scratch *s)
{
	struct stat st;

	return stat(s->mnt, &st) ? 0 : st.st_blksize;
}

/*
 * Below a watermark of free clusters (EXT4_FREECLUSTERS_WATERMARK: 4 x
 * the percpu counter batch x CPUs, 1 MiB of 4k blocks with 2 CPUs)
 * ext4_da_write_begin() falls back to nodelalloc, which is not the path
 * compared here: leave more free than that.
 */
#define FILL_SLACK	(4 * MiB)	/* left free by scratch_fill() */

/*
 * Fallocate all but about FILL_SLACK bytes of @s, in chunks of what
 * statfs says is available.  Returns the bytes left, or -1.
 */
static inline long scratch_fill(struct scratch *s)
{
	long avail = -1, off = 0, tries;
	struct statvfs sv;
	int fd;

	fd = scratch_open(s, "filler", O_CREAT);
	for (tries = 0; fd >= 0 && tries < 64; tries++) {
		if (fstatvfs(fd, &sv))
			break;
		avail = sv.f_bavail * sv.f_bsize;
		if (avail <= 2 * FILL_SLACK)
			break;
		if (fallocate(fd, 0, off, avail - FILL_SLACK) &&
		    errno != ENOSPC) {
			avail = -1;
			break;
		}
		off += avail - FILL_SLACK;
	}
	if (fd >= 0)
		close(fd);
	return avail <= 2 * FILL_SLACK ? avail : -1;
}

/* ---- a user buffer whose tail is unmapped ---- */

/*
 * @readable bytes of pattern() for file offset @pos, directly followed
 * by a PROT_NONE page: a copy from it stops after @readable bytes.
 */
struct ubuf {
	char *map;
	size_t maplen;
	char *p;
};

static inline int ubuf_make(struct ubuf *u, long readable, long pos)
{
	long page = sysconf(_SC_PAGESIZE);
	long head = (readable + page - 1) / page * page;
	long i;

	u->maplen = head + page;
	u->map = mmap(NULL, u->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->map == MAP_FAILED)
		return -1;
	if (mprotect(u->map + head, page, PROT_NONE))
		return -1;
	u->p = u->map + head - readable;
	for (i = 0; i < readable; i++)
		u->p[i] = pattern(pos + i);
	return 0;
}

static inline void ubuf_free(struct ubuf *u)
{
	munmap(u->map, u->maplen);
}

/* ---- one short write, and what came of it ---- */

enum sw_kind {
	SW_PROT_NONE,	/* the source continues into a PROT_NONE page */
	SW_BAD_IOV,	/* pwritev: the second iovec is the PROT_NONE page */
	SW_FSIZE,	/* RLIMIT_FSIZE at pos + readable, SIGXFSZ ignored */
};

/*
 * The file holds @old bytes of pattern(), fsynced (and its cache dropped
 * if @uncached), and is truncated up to @size if that is larger; then
 * @len bytes are written at @pos of which only @readable can be: the
 * write must return @readable, or -EFAULT when that is 0.
 */
struct short_write {
	const char *name;
	enum sw_kind kind;
	long old, size, pos, readable, len;
	bool uncached;
};

/* Bytes that differ from what the file must hold, in one read. */
struct sw_diff {
	long count, first, last;
	int value;		/* of every differing byte, or -1 */
};

struct sw_outcome {
	long ret;
	int err;
	long size;		/* st_size after the write */
	struct sw_diff cache;	/* read through the page cache */
	struct sw_diff disk;	/* again after fsync and a remount */
	long disk_size;
};

static inline long sw_expected_size(const struct short_write *w, long ret)
{
	long size = w->size > w->old ? w->size : w->old;

	return ret > 0 && w->pos + ret > size ? w->pos + ret : size;
}

/* What the byte at @off must be after the write returned @ret. */
static inline unsigned char sw_expected_byte(const struct short_write *w, long ret,
					     long off)
{
	if (off < w->old || (off >= w->pos && off < w->pos + ret))
		return pattern(off);
	return 0;
}

static inline int sw_compare(int fd, const struct short_write *w, long ret,
			     long size, struct sw_diff *d)
{
	unsigned char *buf = malloc(size ? size : 1), want;
	long off;

	memset(d, 0, sizeof(*d));
	d->first = -1;
	d->last = -1;
	d->value = -1;
	if (!buf || pread(fd, buf, size, 0) != size) {
		free(buf);
		return -1;
	}
	for (off = 0; off < size; off++) {
		want = sw_expected_byte(w, ret, off);
		if (buf[off] == want)
			continue;
		if (!d->count++) {
			d->first = off;
			d->value = buf[off];
		} else if (d->value != buf[off]) {
			d->value = -1;
		}
		d->last = off;
	}
	free(buf);
	return 0;
}

static inline ssize_t sw_issue(int fd, const struct short_write *w,
			       const struct ubuf *u)
{
	struct iovec iov[2] = {
		{ u->p, w->readable },
		{ u->p + w->readable, w->len - w->readable },
	};
	struct rlimit old, lim = { w->pos + w->readable, RLIM_INFINITY };
	ssize_t ret;

	if (w->kind == SW_BAD_IOV)
		return pwritev(fd, iov, 2, w->pos);
	if (w->kind == SW_PROT_NONE)
		return pwrite(fd, u->p, w->len, w->pos);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	ret = pwrite(fd, u->p, w->len, w->pos);
	setrlimit(RLIMIT_FSIZE, &old);
	return ret;
}

/* @w's file as it is before the write: its fd, or -1. */
static inline int sw_prepare(struct scratch *s, const struct short_write *w,
			     const struct ubuf *init)
{
	int fd = scratch_open(s, w->name, O_CREAT | O_TRUNC);

	if (fd < 0)
		return -1;
	if (pwrite(fd, init->p, w->old, 0) != w->old || fsync(fd) ||
	    (w->size > w->old && ftruncate(fd, w->size))) {
		close(fd);
		return -1;
	}
	if (!w->uncached)
		return fd;
	close(fd);
	return scratch_remount(s) ? -1 : scratch_open(s, w->name, 0);
}

/* st_size of @fd into *@size, and how its bytes differ into @d. */
static inline int sw_read_back(int fd, const struct short_write *w, long ret,
			       long *size, struct sw_diff *d)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	*size = st.st_size;
	return sw_compare(fd, w, ret, st.st_size, d);
}

/*
 * Make @w's file in @s, write it and read it back, through the cache
 * and after fsync + remount, into @o.  Returns 0, or -1 with @r failed.
 */
static inline int sw_run(struct scratch *s, const struct short_write *w,
			 struct sw_outcome *o, struct result *r)
{
	struct ubuf u, init;
	int fd, ret = -1;

	if (ubuf_make(&init, w->old, 0)) {
		fail(r, "%s: mmap: %s", w->name, strerror(errno));
		return -1;
	}
	if (ubuf_make(&u, w->kind == SW_FSIZE ? w->len : w->readable,
		      w->pos)) {
		fail(r, "%s: mmap: %s", w->name, strerror(errno));
		goto out_init;
	}
	fd = sw_prepare(s, w, &init);
	if (fd < 0) {
		fail(r, "%s: preparing the file: %s", w->name, strerror(errno));
		goto out;
	}
	o->ret = sw_issue(fd, w, &u);
	o->err = errno;
	if (sw_read_back(fd, w, o->ret, &o->size, &o->cache))
		fail(r, "%s: reading back: %s", w->name, strerror(errno));
	fsync(fd);
	close(fd);
	if (r->code == KSFT_FAIL)
		goto out;
	fd = scratch_remount(s) ? -1 : scratch_open(s, w->name, 0);
	if (fd < 0 || sw_read_back(fd, w, o->ret, &o->disk_size, &o->disk))
		fail(r, "%s: remount and read back: %s", w->name,
		     strerror(errno));
	else
		ret = 0;
	if (fd >= 0)
		close(fd);
out:
	ubuf_free(&u);
out_init:
	ubuf_free(&init);
	return ret;
}

/* "ret/st_size/data" of @o, e.g. "1000/1048576/2000 stale 0xaa". */
static const char * __maybe_unused sw_cell(const struct sw_outcome *o,
					   char *buf, size_t len)
{
	char ret[24], data[64];

	if (o->ret < 0)
		snprintf(ret, sizeof(ret), "%s", err_name(o->ret, o->err));
	else
		snprintf(ret, sizeof(ret), "%ld", o->ret);
	if (!o->cache.count && !o->disk.count)
		snprintf(data, sizeof(data), "ok");
	else if (o->cache.value >= 0 && o->cache.count >= o->disk.count)
		snprintf(data, sizeof(data), "%ld(%ld) x%02x", o->cache.count,
			 o->disk.count, o->cache.value);
	else
		snprintf(data, sizeof(data), "%ld(%ld) bad", o->cache.count,
			 o->disk.count);
	snprintf(buf, len, "%s/%ld/%s", ret, o->size, data);
	return buf;
}

/* XFS, or ext4 mounted with buffered_iomap: the fs/iomap write path. */
static inline bool scratch_iomap(const struct scratch *s)
{
	return !strcmp(s->k->type, "xfs") || strstr(s->k->opts, "buffered_iomap");
}

static inline long round_up_to(long v, long unit)
{
	return (v + unit - 1) / unit * unit;
}

/*
 * efault-extends-size (buffer_head, from 6.15, 665575cff098 "filemap:
 * move prefaulting out of hot write path"): a write at pos > i_size
 * whose first byte faults returns -EFAULT, but i_size == pos.
 */
static inline bool sw_efault_extends_size(struct scratch *s,
					  const struct short_write *w,
				   const struct sw_outcome *o)
{
	return !scratch_iomap(s) && kernel_at_least(6, 15) &&
	       !w->readable && o->ret == -1 && o->err == EFAULT &&
	       w->pos > sw_expected_size(w, 0) && o->size == w->pos &&
	       !o->cache.count && !o->disk.count;
}

/*
 * iomap-stale-tail (fs/iomap): a short copy into a hole leaves the rest
 * of its folio as the page held it: every wrong byte lies in
 * [pos + copied, end of the folio) in the cache and in [pos + copied,
 * end of its block) on disk, and is PAGE_POISON where freed pages are
 * poisoned.
 */
static inline bool sw_stale_tail(struct scratch *s, const struct short_write *w,
				 const struct sw_outcome *o)
{
	long end = w->pos + o->ret, page = sysconf(_SC_PAGESIZE);
	int poison = page_poison_on() ? KERNEL_PAGE_POISON : -2;

	return scratch_iomap(s) && o->ret == w->readable && o->ret > 0 &&
	       o->cache.count && o->cache.first >= end &&
	       o->cache.last < round_up_to(end, page) &&
	       (poison < 0 || o->cache.value == poison) &&
	       (!o->disk.count ||
		(o->disk.first >= end &&
		 o->disk.last < round_up_to(end, scratch_block_size(s)) &&
		 (poison < 0 || o->disk.value == poison)));
}

/* Judge @o: a failure, a known issue or nothing (right) into @r. */
static inline void sw_judge(struct scratch *s, const struct short_write *w,
			    const struct sw_outcome *o, struct result *r)
{
	long want = w->readable ? w->readable : -1;
	char cell[96];

	sw_cell(o, cell, sizeof(cell));
	if (sw_efault_extends_size(s, w, o))
		known_issue(r, "efault-extends-size",
			    "%s: pwrite(%ld bytes at %ld) = -1/EFAULT, st_size %ld -> %ld (%ld after fsync + remount)",
			    w->name, w->len, w->pos, sw_expected_size(w, 0),
			    o->size, o->disk_size);
	else if (sw_stale_tail(s, w, o))
		known_issue(r, "iomap-stale-tail",
			    "%s: pwrite(%ld bytes at %ld) = %ld; %ld bytes in [%ld, %ld] read %s in the page cache, %ld in [%ld, %ld] after fsync + remount",
			    w->name, w->len, w->pos, o->ret, o->cache.count,
			    o->cache.first, o->cache.last,
			    o->cache.value == KERNEL_PAGE_POISON ?
			    "0xaa (PAGE_POISON)" : "non-zero", o->disk.count,
			    o->disk.first, o->disk.last);
	else if (o->ret != want || (o->ret < 0 && o->err != EFAULT))
		fail(r,
		     "%s: pwrite(%ld bytes at %ld): expected %ld, seen %ld/%s (ret/st_size/data %s)",
		     w->name, w->len, w->pos, want, o->ret,
		     err_name(o->ret, o->err), cell);
	else if (o->size != sw_expected_size(w, o->ret) ||
		 o->disk_size != o->size)
		fail(r, "%s: st_size: expected %ld, seen %ld, %ld after fsync + remount",
		     w->name, sw_expected_size(w, o->ret), o->size,
		     o->disk_size);
	else if (o->cache.count || o->disk.count)
		fail(r,
		     "%s: %ld wrong bytes in [%ld, %ld] in the page cache, %ld in [%ld, %ld] after fsync + remount",
		     w->name, o->cache.count, o->cache.first, o->cache.last,
		     o->disk.count, o->disk.first, o->disk.last);
}

#define ENOSPC_LEN	(16 * MiB)	/* far more than scratch_fill() leaves */

/*
 * iomap-enospc-whole: fill @s but a few MiB, then write more than that
 * from offset 0 of a new file; "ret/st_size" into @cell.
 */
static inline void sw_enospc(struct scratch *s, struct result *r, char *cell,
			     size_t len)
{
	struct stat st;
	struct ubuf u;
	long free, ret;
	int fd, err;

	snprintf(cell, len, "-");
	free = scratch_fill(s);
	fd = scratch_open(s, "file", O_CREAT);
	if (free < 0 || fd < 0 || ubuf_make(&u, ENOSPC_LEN, 0)) {
		fail(r, "filling the file system: %s", strerror(errno));
		goto out;
	}
	ret = pwrite(fd, u.p, ENOSPC_LEN, 0);
	err = errno;
	fstat(fd, &st);
	ubuf_free(&u);
	if (ret < 0)
		snprintf(cell, len, "%s/%lld", err_name(ret, err),
			 (long long)st.st_size);
	else
		snprintf(cell, len, "%ld/%lld", ret, (long long)st.st_size);
	if (ret == -1 && err == ENOSPC && !st.st_size && scratch_iomap(s))
		known_issue(r, "iomap-enospc-whole",
			    "pwrite(%ld bytes) with %ld bytes free = -1/ENOSPC, st_size 0",
			    ENOSPC_LEN, free);
	else if (ret <= 0 || ret > free || st.st_size != ret)
		fail(r,
		     "pwrite(%ld bytes) with %ld bytes free: expected the bytes that fit (0 < ret <= %ld) and st_size == ret; seen %ld/%s, st_size %lld",
		     ENOSPC_LEN, free, free, ret, err_name(ret, err),
		     (long long)st.st_size);
out:
	if (fd >= 0)
		close(fd);
}

/*
 * Switch off the rate limit of ext4's messages for the scratch device
 * (/sys/fs/ext4/<dev>/msg_ratelimit_interval_ms), so that a signature
 * naming one finds it in every step; -1 if ext4 has no such file.
 */
static inline int scratch_msg_unlimited(struct scratch *s)
{
	char path[256];
	const char *dev = strrchr(s->dev, '/');

	snprintf(path, sizeof(path), "/sys/fs/ext4/%s/msg_ratelimit_interval_ms",
		 dev ? dev + 1 : s->dev);
	return write_file(path, "0");
}

/* ---- fail-nth fault injection ---- */

/*
 * Configured as tools/testing/selftests/iommu/iommufd_fail_nth.c does:
 * sleeping allocations can fail too, every injected fault prints its
 * call trace (verbose 2, no rate limit).  fault_setup() saves what it
 * changes; fault_restore() puts it back.
 */
struct fault_attr_setting {
	const char *file;
	const char *value;
	char saved[32];
	bool changed;
};

#define FAULT_DIR	"/sys/kernel/debug/"

static struct fault_attr_setting fault_attrs[] = {
	{ .file = FAULT_DIR "failslab/ignore-gfp-wait", .value = "N" },
	{ .file = FAULT_DIR "failslab/verbose", .value = "2" },
	{ .file = FAULT_DIR "failslab/verbose_ratelimit_interval_ms", .value = "0" },
	{ .file = FAULT_DIR "fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .file = FAULT_DIR "fail_page_alloc/ignore-gfp-highmem", .value = "N" },
	{ .file = FAULT_DIR "fail_page_alloc/min-order", .value = "0" },
	{ .file = FAULT_DIR "fail_page_alloc/verbose", .value = "2" },
	{ .file = FAULT_DIR "fail_page_alloc/verbose_ratelimit_interval_ms", .value = "0" },
};

static inline void fault_restore(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fault_attrs); i++)
		if (fault_attrs[i].changed &&
		    !write_file(fault_attrs[i].file, fault_attrs[i].saved))
			fault_attrs[i].changed = false;
}

/* Returns the fail-nth file's fd, or -1 with @r saying why. */
static inline int fault_setup(struct result *r)
{
	struct fault_attr_setting *f;
	unsigned int i;
	int fd;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		skip(r,
		     "no /proc/thread-self/fail-nth: needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(fault_attrs); i++) {
		f = &fault_attrs[i];
		if (read_file(f->file, f->saved, sizeof(f->saved))) {
			skip(r,
			     "cannot read %s: needs CONFIG_FAULT_INJECTION_DEBUG_FS and debugfs mounted",
			     f->file);
			break;
		}
		if (write_file(f->file, f->value)) {
			fail(r, "cannot write %s", f->file);
			break;
		}
		f->changed = true;
	}
	if (i == ARRAY_SIZE(fault_attrs))
		return fd;
	fault_restore();
	close(fd);
	return -1;
}

/* Make the @n-th fault point this task reaches fail. */
static inline void fail_nth_arm(int fd, int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	pwrite(fd, buf, strlen(buf), 0);
}

/* Disarm; true if the armed fault was injected. */
static inline bool fail_nth_disarm(int fd)
{
	char buf[16] = "";
	bool fired;

	fired = pread(fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) == 0;
	pwrite(fd, "0", 1, 0);
	return fired;
}

/* ---- the kernel log ---- */

/* /dev/kmsg, positioned after the last record. */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The text of the records since the last call, one line each. */
static inline void kmsg_read(int fd, char *out, size_t len)
{
	size_t used = 0;
	char rec[2048], *msg;
	ssize_t n;

	out[0] = '\0';
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n < 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || used + 2 >= len)
			continue;
		msg[strcspn(msg, "\n")] = '\0';
		used += snprintf(out + used, len - used, "%s\n", msg + 1);
		if (used >= len)
			used = len - 1;
	}
}

/*
 * Does the call trace in @log show @callee called, directly or through
 * inlined or tail-called helpers, from @caller?  Frames print as
 * " name+0xoff/0xsize".
 */
static inline bool trace_shows(const char *log, const char *callee,
			       const char *caller)
{
	char a[80], b[80];
	const char *at;

	snprintf(a, sizeof(a), " %s+0x", callee);
	snprintf(b, sizeof(b), " %s+0x", caller);
	at = strstr(log, "FAULT_INJECTION: forcing a failure");
	at = at ? strstr(at, a) : NULL;
	return at && strstr(at, b);
}

/*
 * A fail-nth sweep: step n fails the n-th fault point the tested call
 * reaches, for n = 1, 2, ... until a step reaches no n-th point.  @log
 * has what the kernel printed during the step: with verbose 2, the
 * injected fault's call trace.
 */
#define SWEEP_LIMIT	2000
#define SWEEP_PASSES	2

struct sweep {
	int nth_fd, kmsg_fd, n, injected, pass, steps;
	bool fired;
	char log[32768];
};

static inline int sweep_begin(struct sweep *sw, struct result *r)
{
	sw->n = 0;
	sw->injected = 0;
	sw->pass = 0;
	sw->steps = 0;
	sw->fired = false;
	sw->nth_fd = fault_setup(r);
	if (sw->nth_fd < 0)
		return -1;
	sw->kmsg_fd = kmsg_open();
	if (sw->kmsg_fd < 0) {
		fail(r, "/dev/kmsg: %s", strerror(errno));
		close(sw->nth_fd);
		fault_restore();
		return -1;
	}
	return 0;
}

static inline void sweep_arm(struct sweep *sw)
{
	kmsg_read(sw->kmsg_fd, sw->log, sizeof(sw->log));
	fail_nth_arm(sw->nth_fd, sw->n);
}

static inline void sweep_disarm(struct sweep *sw)
{
	sw->fired = fail_nth_disarm(sw->nth_fd);
	sw->injected += sw->fired;
	kmsg_read(sw->kmsg_fd, sw->log, sizeof(sw->log));
}

/*
 * The next step of a sweep: true with sw->n set, false when it is over
 * (@r failed, the last pass reached no n-th point, or SWEEP_LIMIT).
 * Which point is the n-th moves now and then (a kmalloc() that refills
 * its slab adds a fail_page_alloc point), so a point skipped in one pass
 * is reached in another: SWEEP_PASSES passes from n = 1, each ending at
 * the first n that is not reached.
 */
static inline bool sweep_next(struct sweep *sw, struct result *r)
{
	if (r->code == KSFT_FAIL)
		return false;
	if (sw->n && !sw->fired) {
		if (++sw->pass == SWEEP_PASSES)
			return false;
		sw->n = 0;
	}
	sw->steps++;
	return ++sw->n < SWEEP_LIMIT;
}

/* Ends the sweep; fails @r if it injected nothing or did not converge. */
static inline void sweep_end(struct sweep *sw, struct result *r)
{
	if (sw->n >= SWEEP_LIMIT)
		fail(r, "fail-nth: still injecting at n = %d", sw->n);
	else if (!sw->injected)
		fail(r, "fail-nth: expected faults injected, seen none at n = 1");
	close(sw->kmsg_fd);
	close(sw->nth_fd);
	fault_restore();
}

/* Judges one step of sweep_fsync(): what fsync() returned, its errno. */
typedef void (*fsync_judge)(struct scratch *s, const struct sweep *sw,
			    int fd, int ret, int err, struct result *r);

/*
 * A fail-nth sweep over fsync(): each step writes @len bytes of pattern()
 * to a new file "file", calls fsync() with the step's n-th fault point
 * armed, and hands the file to @judge.
 */
static inline void sweep_fsync(struct scratch *s, long len, fsync_judge judge,
			       struct result *r)
{
	struct sweep sw;
	struct ubuf u;
	int fd, ret, err;

	if (sweep_begin(&sw, r))
		return;
	if (ubuf_make(&u, len, 0)) {
		fail(r, "mmap: %s", strerror(errno));
		goto out;
	}
	while (sweep_next(&sw, r)) {
		fd = scratch_open(s, "file", O_CREAT | O_TRUNC);
		if (fd < 0 || pwrite(fd, u.p, len, 0) != len) {
			fail(r, "fail-nth=%d: write: %s", sw.n, strerror(errno));
			if (fd >= 0)
				close(fd);
			break;
		}
		sweep_arm(&sw);
		ret = fsync(fd);
		err = errno;
		sweep_disarm(&sw);
		judge(s, &sw, fd, ret, err, r);
		close(fd);
	}
	ubuf_free(&u);
out:
	sweep_end(&sw, r);
}

/* ---- the program ---- */

struct repro_case {
	const char *name;
	const struct fs_kind *fs;
	void (*run)(struct scratch *s, struct result *r);
};

/*
 * Run every case on a scratch file system of its own and print TAP.
 * --known=fail (or EXT4_BWT_KNOWN=fail) makes known issues failures.
 */
static inline int repro_main(int argc, char **argv, const char *prog,
			     const struct repro_case *cases, unsigned int n)
{
	const char *known = getenv("EXT4_BWT_KNOWN");
	struct scratch s;
	struct result r;
	unsigned int i;
	char name[128];

	if (argc > 1 && !strncmp(argv[1], "--known=", 8))
		known = argv[1] + 8;
	if (known && *known && strcmp(known, "report") && strcmp(known, "fail"))
		ksft_exit_fail_msg("--known= (or EXT4_BWT_KNOWN) takes report or fail\n");
	repro_strict = known && !strcmp(known, "fail");

	ksft_print_header();
	ksft_set_plan(n);
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.code = KSFT_PASS;
		snprintf(name, sizeof(name), "%s.%s", prog, cases[i].name);
		if (!scratch_create(&s, cases[i].fs, &r)) {
			cases[i].run(&s, &r);
			fault_restore();
			scratch_destroy(&s, &r);
		}
		ksft_test_result_code(r.code, name, r.msg[0] ? "%s" : NULL,
				      r.msg);
	}
	ksft_finished();
}

#endif /* EXT4_REPRO_H */
