// SPDX-License-Identifier: GPL-2.0
/*
 * Short buffered writes on ext4, seen from user space.
 *
 * Every scenario is a row of scenarios[]: a file is prepared, one write
 * is made whose user buffer stops being readable part way (PROT_NONE,
 * munmap, a bad later iovec) or whose length is cut by RLIMIT_FSIZE or
 * ENOSPC, and one checker compares what the kernel did with what the
 * write path under test is expected to do.  The expectations that differ
 * between the buffer_head and the iomap write paths live in one table,
 * path_rules[], each row naming where its semantics come from.
 *
 * The fail_nth test replays each row with fail-nth = 1, 2, ..., twice,
 * so that every slab, page and user-copy fault point the write reaches
 * is failed, and checks the invariants that must hold whatever failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/version.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

/* From include/uapi/linux/ext4.h, which older uapi trees lack. */
#ifndef EXT4_IOC_GET_ES_CACHE
#define EXT4_IOC_GET_ES_CACHE		_IOWR('f', 42, struct fiemap)
#endif
#ifndef EXT4_FIEMAP_EXTENT_HOLE
#define EXT4_FIEMAP_EXTENT_HOLE		0x08000000
#endif

#define IMAGE_BYTES		(64UL << 20)
#define MAX_FILE_BYTES		(64UL << 10)
#define ENOSPC_CHUNK		(1024UL * 1024)
#define FAIL_NTH_LIMIT		2000
/*
 * Which point is the n-th moves now and then (a kmalloc() that refills
 * its slab adds a fail_page_alloc point): a point one pass skips, the
 * other reaches.
 */
#define FAIL_NTH_PASSES		2
#define MAX_EXTENTS		256
#define MAX_LOGGED		4
#define POISON_BYTES		(512UL << 10)

/* ---- what a block can be, and in which stage it is looked at ---- */

enum bstate { B_HOLE, B_DELALLOC, B_UNWRITTEN, B_WRITTEN, B_UNKNOWN };

static const char * const bstate_name[] = {
	[B_HOLE] = "hole", [B_DELALLOC] = "delalloc",
	[B_UNWRITTEN] = "unwritten", [B_WRITTEN] = "written",
	[B_UNKNOWN] = "not-cached",
};

enum stage { AFTER_WRITE, AFTER_FSYNC, AFTER_REMOUNT, NR_STAGES };

static const char * const stage_name[] = {
	[AFTER_WRITE] = "after write", [AFTER_FSYNC] = "after fsync",
	[AFTER_REMOUNT] = "after remount",
};

/* ---- the write paths and what each does with a short write ---- */

enum wpath { BH_DELALLOC, BH_NODELALLOC, IOMAP_DELALLOC, IOMAP_NODELALLOC };

/*
 * A "new" block is a block that was a hole before the write.  Of the new
 * blocks a short write reaches, the copied ones hold the copied prefix;
 * the stale ones were reserved or allocated for the write but received
 * no byte.  A stale block lies past EOF if its index is at or beyond
 * DIV_ROUND_UP(i_size, blocksize) after the write.
 *
 * reach_page: the path reserves/allocates per page-cache folio, so the
 * blocks reached are those of the write up to the end of the folio the
 * copy faulted in (every row keeps its write inside that page).  When
 * false the path maps per extent (iomap_iter), so it reaches the hole
 * run the fault lies in and stops there.
 */
struct path_rule {
	const char *name;
	bool reach_page;
	enum bstate copied[NR_STAGES];
	enum bstate stale_past_eof[NR_STAGES];
	enum bstate stale_in_size[NR_STAGES];
	const char *source;
};

static const struct path_rule path_rules[] = {
	[BH_DELALLOC] = {
		.name = "buffer_head delalloc",
		.reach_page = true,
		.copied = { B_DELALLOC, B_WRITTEN, B_WRITTEN },
		/* kept reserved until rewritten or the inode is evicted */
		.stale_past_eof = { B_DELALLOC, B_DELALLOC, B_HOLE },
		/* zeroed, dirty: writeback allocates and writes them */
		.stale_in_size = { B_DELALLOC, B_WRITTEN, B_WRITTEN },
		/*
		 * Seed thread (Zhang Yi, re: v4 08/23, 2026-06-02): the
		 * reservation stays until rewrite or eviction, and is used
		 * at writeback when i_size lies beyond.  Code: fs/buffer.c
		 * block_write_end() -> folio_zero_new_buffers() dirties the
		 * zeroed new buffers; mpage_process_page_bufs() stops at
		 * lblk >= DIV_ROUND_UP(i_size).
		 */
		.source = "seed thread; fs/ext4/inode.c mpage_process_page_bufs()",
	},
	[BH_NODELALLOC] = {
		.name = "buffer_head nodelalloc",
		.reach_page = true,
		/* ext4_should_dioread_nolock() is false without delalloc */
		.copied = { B_WRITTEN, B_WRITTEN, B_WRITTEN },
		.stale_past_eof = { B_HOLE, B_HOLE, B_HOLE },
		.stale_in_size = { B_WRITTEN, B_WRITTEN, B_WRITTEN },
		/* ext4_truncate_failed_write() frees blocks past i_size */
		.source = "fs/ext4/inode.c ext4_write_end()",
	},
	[IOMAP_DELALLOC] = {
		.name = "iomap delalloc",
		.reach_page = false,
		.copied = { B_DELALLOC, B_WRITTEN, B_WRITTEN },
		.stale_past_eof = { B_HOLE, B_HOLE, B_HOLE },
		.stale_in_size = { B_HOLE, B_HOLE, B_HOLE },
		/*
		 * The unused delalloc range is punched at once; 0013 marks
		 * a fresh reservation new so the punch happens at all.
		 */
		.source = "series 0004 ext4_iomap_buffered_da_write_end(), 0013",
	},
	[IOMAP_NODELALLOC] = {
		.name = "iomap nodelalloc",
		.reach_page = false,
		.copied = { B_UNWRITTEN, B_WRITTEN, B_WRITTEN },
		.stale_past_eof = { B_UNWRITTEN, B_UNWRITTEN, B_UNWRITTEN },
		.stale_in_size = { B_UNWRITTEN, B_UNWRITTEN, B_UNWRITTEN },
		/*
		 * New blocks are allocated unwritten for the whole mapping
		 * (EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT) and nothing is undone
		 * on a short write (v4 08/23 commit message).
		 */
		.source = "series 0004 ext4_iomap_get_blocks()",
	},
};

/* ---- kernel behaviour that is reported, not failed ---- */

#define PATH_BIT(p)		(1U << (p))

/*
 * An outcome that breaks the expectations in exactly the way a row of
 * known_issues[] describes is a known issue: with every other check of
 * the test passing, the test is reported as XFAIL, its result line
 * reading "ok N <fixture>.<variant>.<test> # XFAIL known-issue:<ids> ..."
 * (ids sorted, comma separated).  --known=fail, or EXT4_BWT_KNOWN=fail
 * in the environment, turns every known issue into a failure instead.
 * An outcome that differs from a row in any element fails as usual.
 *
 * A row matches only when all of these hold: the write path is one of
 * @paths; the file system has a journal if @journal says it must; the
 * running kernel (uname -r) is @first_affected or later (no upper bound:
 * a fixed kernel simply stops showing the signature); and the outcome is
 * the @kind's signature:
 *
 * KI_ERROR_AFTER_SIZE, a fail-nth step: the write returned -1 with errno
 *	@err; st_size grew to exactly pos + copied, copied > 0 being what
 *	the kernel takes into the folio at pos (up to the fault or the end
 *	of that page), and those bytes read back as written.  Every such
 *	step is replayed with fault-injection verbose=2; the replay must
 *	show the same outcome, exactly one injected fault, and that fault's
 *	call trace (innermost first) must hold @site.callee with
 *	@site.caller above it and, between them, no ext4 or jbd2 frame but
 *	those in @site.via.  A trace that cannot be read fails the step.
 *
 * KI_STALE_TAIL, a row of scenarios[]: blocks smaller than a page; the
 *	write starts inside a block of a hole that lies wholly inside
 *	i_size; it returned exactly the bytes copied into the folio at pos;
 *	the bytes that differ from the expected zeros are the poison byte
 *	of the run (below), none before pos + copied, and all inside
 *	[pos + copied, end of the page holding it) while read from the page
 *	cache, [pos + copied, end of the block holding it) once re-read
 *	from the device; and every other check of the row passes.
 *
 * Poison.  The stale bytes are whatever the page held before it was
 * handed to the page cache, so the expected value depends on the run:
 *
 *	page_poison=1 on the command line of a kernel built with
 *	CONFIG_PAGE_POISONING: every freed page is filled with PAGE_POISON
 *	(0xaa, include/linux/poison.h) and init_on_alloc is off, so a stale
 *	tail is exactly the bytes [pos + copied, end of the window), every
 *	one 0xaa; anything shorter, longer or of another value fails.
 *
 *	otherwise (best effort): before each write the test fills page
 *	cache with USER_POISON (0xa5) and drops it, hoping the allocator
 *	hands those pages out again.  Stale bytes must be 0xa5; a tail that
 *	happens to come back zeroed cannot be seen at all.
 */
enum ki_kind { KI_ERROR_AFTER_SIZE, KI_STALE_TAIL };

enum ki_journal { KI_JOURNAL_ANY, KI_JOURNAL_REQUIRED };

/* A call chain in a fault-injection stack trace, innermost first. */
struct ki_site {
	const char *callee;
	const char *caller;
	const char *via[3];
};

struct known_issue {
	const char *id;		/* shared with the KUnit suite */
	const char *name;
	enum ki_kind kind;
	unsigned int paths;
	enum ki_journal journal;
	unsigned int first_affected;	/* KERNEL_VERSION() */
	const char *commit;	/* introducing commit, or "unknown" */
	int err;
	struct ki_site site;
	const char *signature;
	const char *source;
};

#define USER_POISON		0xa5
#define KERNEL_PAGE_POISON	0xaa	/* PAGE_POISON, include/linux/poison.h */

static const struct known_issue known_issues[] = {
	{
		.id = "journal-start-after-size",
		.name = "write returns an error after i_size moved",
		.kind = KI_ERROR_AFTER_SIZE, .paths = PATH_BIT(BH_DELALLOC),
		.journal = KI_JOURNAL_REQUIRED,
		/*
		 * ext4_da_do_write_end(), with its ext4_journal_start() after
		 * i_size_write(), came with "ext4: do not mark inode dirty
		 * every time in delalloc append write scenario" (Liu Song),
		 * applied to the ext4 tree on 2023-08-24 as 40b14c55e3d0 per
		 * Ted Ts'o's reply; 6.6 is inferred from that date (the 6.6
		 * merge window), not checked against a 6.6 tree.  The same
		 * code is in the 6.12 and 7.2 sources; seen on 7.2 only.
		 */
		.first_affected = KERNEL_VERSION(6, 6, 0),
		.commit =
			"40b14c55e3d0 (ext4 tree id from the maintainer's reply; mainline id not checked)",
		.err = ENOMEM,
		/*
		 * ext4_da_do_write_end() is inlined in ext4_da_write_end();
		 * __ext4_journal_start_sb() tail-calls jbd2__journal_start(),
		 * so neither need show in the trace.
		 */
		.site = { "jbd2__journal_start", "ext4_da_write_end",
			  { "__ext4_journal_start_sb", "ext4_da_do_write_end" } },
		.signature =
			"-1/ENOMEM, st_size = pos + copied > old size, copied bytes on file, fault in jbd2__journal_start < ext4_da_write_end",
		/*
		 * i_size_write(pos + copied) is done, then the handle for
		 * the i_disksize update cannot be started and its error is
		 * returned instead of copied; generic_perform_write() passes
		 * it on as nothing was written before this folio.
		 */
		.source = "fs/ext4/inode.c ext4_da_do_write_end(): ext4_journal_start() fails",
	},
	{
		.id = "iomap-stale-tail",
		.name = "stale bytes past a short copy into a hole",
		.kind = KI_STALE_TAIL,
		.paths = PATH_BIT(IOMAP_DELALLOC) | PATH_BIT(IOMAP_NODELALLOC),
		.journal = KI_JOURNAL_ANY,
		/*
		 * Only seen with Zhang Yi's iomap series (v4) applied to 7.2,
		 * the oldest tree it was run on; no released kernel has the
		 * iomap path, so the path bits decide in practice.
		 */
		.first_affected = KERNEL_VERSION(7, 2, 0),
		.commit = "unknown (root cause open)",
		/*
		 * 1k blocks, 4k pages, a short copy into the folio: the
		 * bytes from pos + copied to the end of that folio read back
		 * as what the page held before, and writeback puts the rest
		 * of the block holding pos + copied on disk.  The KUnit
		 * suite reproduces it on its own (1k and 2k blocks, delalloc
		 * and nodelalloc).  Not verified, only read:
		 * fs/iomap/buffered-io.c __iomap_write_begin() zeroes only
		 * outside [from, to) of the blocks it reads or allocates and
		 * marks them uptodate, so __iomap_write_end() may take the
		 * short copy as is; and ext4's iomap write ops (series 0004,
		 * ../shared/iomap-series) decide which blocks are new, so
		 * they are involved too.
		 */
		.signature =
			"bytes [pos + copied, end of page) in the page cache and [pos + copied, end of block) on disk hold the poison byte instead of zeros",
		.source =
			"fs/iomap/buffered-io.c __iomap_write_begin()/__iomap_write_end(), ../shared/iomap-series 0004; root cause open",
	},
};

#define NR_KNOWN_ISSUES ARRAY_SIZE(known_issues)

/* How this run treats known issues and which poison it expects. */
static struct {
	bool strict;		/* --known=fail */
	bool page_poison;	/* the kernel poisons freed pages with 0xaa */
	char poison_why[256];
	char release[65];
	unsigned int kver;	/* KERNEL_VERSION() of uname -r */
} run_cfg;

/* The known issues met by this test (one process per test). */
struct ki_hits {
	int count;
	char evidence[192];	/* of the first hit, for the result line */
};

static struct ki_hits ki_hits[NR_KNOWN_ISSUES];

static unsigned char stale_poison(void)
{
	return run_cfg.page_poison ? KERNEL_PAGE_POISON : USER_POISON;
}

static const char *errno_name(int err)
{
	switch (err) {
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case ENOSPC: return "ENOSPC";
	case EINTR: return "EINTR";
	default: return strerror(err);
	}
}

/* A diagnostic line in the TAP output, in order with TH_LOG(). */
static __printf(1, 2) void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Count a hit of known_issues[@row]; print and keep its evidence. */
static __printf(2, 3) void known_issue_hit(int row, const char *fmt, ...)
{
	struct ki_hits *h = &ki_hits[row];
	char ev[sizeof(h->evidence)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	if (!h->count++)
		snprintf(h->evidence, sizeof(h->evidence), "%s", ev);
	note("KNOWN ISSUE %s: %s [%s]", known_issues[row].id, ev,
	     known_issues[row].source);
}

/* ---- the scenarios ---- */

enum fault_kind {
	F_PROT_NONE,	/* user buffer continues into a PROT_NONE page */
	F_MUNMAP,	/* user buffer continues into an unmapped page */
	F_BAD_IOV,	/* pwritev: second iovec points at PROT_NONE */
	F_FSIZE,	/* RLIMIT_FSIZE ends the write, SIGXFSZ ignored */
	F_ENOSPC,	/* the file system fills up part way */
};

/* A file offset given as blocks of the file system plus bytes. */
struct boff {
	int blk;
	int byte;
};

/*
 * init_data: written and fsynced before the test write (generation 1).
 * init_size: i_size after ftruncate(), if larger than init_data.
 * pos: where the write starts; append rows start at init_data.
 * fault: first file offset whose user byte cannot be read (or the
 *	RLIMIT_FSIZE limit).  The write asks for the bytes up to the end
 *	of the page holding @fault, so the fault always lies inside it.
 */
struct scenario {
	const char *name;
	enum fault_kind kind;
	bool append;
	struct boff init_data;
	struct boff init_size;
	struct boff pos;
	struct boff fault;
};

static const struct scenario scenarios[] = {
	{ "append_fault_mid_block", F_PROT_NONE, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 2, 500 } },
	{ "append_fault_block_boundary", F_PROT_NONE, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 2, 0 } },
	{ "append_fault_first_byte", F_PROT_NONE, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 1, 300 } },
	{ "append_fault_first_byte_aligned", F_PROT_NONE, true,
	  { 2, 0 }, { 0, 0 }, { 0, 0 }, { 2, 0 } },
	{ "append_munmap_tail", F_MUNMAP, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 2, 500 } },
	{ "append_pwritev_bad_iov", F_BAD_IOV, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 2, 0 } },
	{ "hole_in_size_mid_block", F_PROT_NONE, false,
	  { 1, 0 }, { 16, 0 }, { 4, 100 }, { 5, 300 } },
	{ "hole_in_size_block_boundary", F_PROT_NONE, false,
	  { 1, 0 }, { 16, 0 }, { 4, 100 }, { 6, 0 } },
	{ "overwrite_uncached_mid_block", F_PROT_NONE, false,
	  { 8, 0 }, { 0, 0 }, { 1, 100 }, { 3, 300 } },
	{ "append_rlimit_fsize", F_FSIZE, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 2, 500 } },
	{ "append_enospc", F_ENOSPC, true,
	  { 1, 300 }, { 0, 0 }, { 0, 0 }, { 0, 0 } },
};

#define NR_SCENARIOS ARRAY_SIZE(scenarios)

/* ---- fixture: one freshly made file system per variant ---- */

/* The scratch file system of one test, and how it was made. */
struct scratch_fs {
	char dir[192];
	char image[224];
	char mnt[224];
	char dev[64];
	char sysfs_dab[128];
	int dev_fd;
	bool mounted;
	unsigned int bs;
	unsigned int cluster;
	unsigned long page;
	bool journal;
	enum wpath path;
	const char *name;
	const char *mount_opts;
};

FIXTURE(ext4_short_write) {
	struct scratch_fs fs;
};

FIXTURE_VARIANT(ext4_short_write) {
	const char *name;	/* for failure messages */
	const char *mkfs_opts;	/* space separated mkfs.ext4 arguments */
	const char *mount_opts;
	enum wpath path;
};

FIXTURE_VARIANT_ADD(ext4_short_write, bh_1k) {
	.name = "bh_1k",
	.mkfs_opts = "-b 1024", .mount_opts = "", .path = BH_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, bh_4k) {
	.name = "bh_4k",
	.mkfs_opts = "-b 4096", .mount_opts = "", .path = BH_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, bh_bigalloc_16k) {
	.name = "bh_bigalloc_16k",
	.mkfs_opts = "-b 4096 -O bigalloc -C 16384", .mount_opts = "",
	.path = BH_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, bh_nojournal) {
	.name = "bh_nojournal",
	.mkfs_opts = "-b 4096 -O ^has_journal", .mount_opts = "",
	.path = BH_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, bh_nodelalloc_1k) {
	.name = "bh_nodelalloc_1k",
	.mkfs_opts = "-b 1024", .mount_opts = "nodelalloc",
	.path = BH_NODELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, iomap_1k) {
	.name = "iomap_1k",
	.mkfs_opts = "-b 1024", .mount_opts = "buffered_iomap",
	.path = IOMAP_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, iomap_4k) {
	.name = "iomap_4k",
	.mkfs_opts = "-b 4096", .mount_opts = "buffered_iomap",
	.path = IOMAP_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, iomap_bigalloc_16k) {
	.name = "iomap_bigalloc_16k",
	.mkfs_opts = "-b 4096 -O bigalloc -C 16384",
	.mount_opts = "buffered_iomap", .path = IOMAP_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, iomap_nojournal) {
	.name = "iomap_nojournal",
	.mkfs_opts = "-b 4096 -O ^has_journal",
	.mount_opts = "buffered_iomap", .path = IOMAP_DELALLOC,
};

FIXTURE_VARIANT_ADD(ext4_short_write, iomap_nodelalloc_1k) {
	.name = "iomap_nodelalloc_1k",
	.mkfs_opts = "-b 1024", .mount_opts = "buffered_iomap,nodelalloc",
	.path = IOMAP_NODELALLOC,
};

static void fault_restore(void);

/* snprintf() at *@used of @buf, which stays terminated when full. */
static __printf(4, 5) void append(char *buf, size_t len, size_t *used,
				  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + n < len ? *used + n : len - 1;
}

/*
 * The verdict on the known issues this test met, run last in teardown:
 * with every other check passed, XFAIL with the ids and evidence on the
 * result line, or under --known=fail a failure saying the same.
 */
static void known_issue_verdict(struct __test_metadata *_metadata,
				const struct scratch_fs *self)
{
	char ids[96] = "", text[640] = "", *reason = _metadata->results->reason;
	size_t il = 0, tl = 0, rlen = sizeof(_metadata->results->reason);
	unsigned int order[NR_KNOWN_ISSUES], n = 0, i, j;

	/* the rows met, sorted by id */
	for (i = 0; i < NR_KNOWN_ISSUES; i++) {
		if (!ki_hits[i].count)
			continue;
		for (j = n++; j > 0 && strcmp(known_issues[order[j - 1]].id,
					      known_issues[i].id) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (j = 0; j < n; j++) {
		const struct known_issue *ki = &known_issues[order[j]];
		const struct ki_hits *h = &ki_hits[order[j]];

		append(ids, sizeof(ids), &il, "%s%s", j ? "," : "", ki->id);
		if (n > 1)
			append(text, sizeof(text), &tl, "%s%s ", j ? "; " : "",
			       ki->id);
		append(text, sizeof(text), &tl, "x%d, first %s", h->count,
		       h->evidence);
	}
	if (!n)
		return;
	if (_metadata->exit_code == KSFT_FAIL) {
		note("%s: known issues %s were met too; the verdict is the failure above",
		     self->name, ids);
		return;
	}
	if (_metadata->exit_code != KSFT_PASS)
		return;
	if (run_cfg.strict) {
		for (j = 0; j < n; j++)
			TH_LOG("%s: %s met %d times, failed by --known=fail: %s; signature: %s",
			       self->name, known_issues[order[j]].id,
			       ki_hits[order[j]].count,
			       ki_hits[order[j]].evidence,
			       known_issues[order[j]].signature);
		snprintf(reason, rlen, "known-issue:%s failed (--known=fail) %s",
			 ids, text);
		_metadata->exit_code = KSFT_FAIL;
		return;
	}
	snprintf(reason, rlen, "known-issue:%s %s", ids, text);
	_metadata->exit_code = KSFT_XFAIL;
}

/* ---- small helpers ---- */

/* Run argv with output discarded; return its exit status or -1. */
static int run_quiet(char *const argv[])
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static bool have_program(const char *name)
{
	char *const argv[] = { (char *)name, "-V", NULL };

	return run_quiet(argv) != 127;
}

static int write_str(const char *path, const char *val)
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

static int read_str(const char *path, char *buf, size_t len)
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
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static long long read_dab(struct scratch_fs *self)
{
	char buf[32];

	if (read_str(self->sysfs_dab, buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

/* The byte generation @gen holds at file offset @off: never zero. */
static unsigned char pattern(unsigned long off, int gen)
{
	return 1 + (off * 7 + (off >> 8) + gen * 29) % 251;
}

static long boff_val(struct scratch_fs *self, struct boff b)
{
	return (long)b.blk * self->bs + b.byte;
}

/* Attach @image to a free loop device of our own (none: the test skips). */
static int attach_device(struct scratch_fs *self)
{
	struct loop_config cfg = { 0 };
	int ctl, nr, fd, img;

	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl >= 0) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		close(ctl);
		snprintf(self->dev, sizeof(self->dev), "/dev/loop%d", nr);
		fd = nr >= 0 ? open(self->dev, O_RDWR) : -1;
		img = open(self->image, O_RDWR);
		cfg.fd = img;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (fd >= 0 && img >= 0 &&
		    !ioctl(fd, LOOP_CONFIGURE, &cfg)) {
			close(img);
			self->dev_fd = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (img >= 0)
			close(img);
	}
	/* Never a device this test did not create: no fallback. */
	return -1;
}

static int do_mount(struct scratch_fs *self, const char *opts)
{
	if (mount(self->dev, self->mnt, "ext4", 0, opts))
		return -1;
	self->mounted = true;
	return 0;
}

static int do_umount(struct scratch_fs *self)
{
	if (!self->mounted)
		return 0;
	if (umount(self->mnt))
		return -1;
	self->mounted = false;
	return 0;
}

static int fsck_status(struct scratch_fs *self)
{
	char *const argv[] = { "e2fsck", "-fn", self->dev, NULL };

	return run_quiet(argv);
}

/* Unmount, require a clean e2fsck -fn, mount again. */
static void remount_checked(struct __test_metadata *_metadata,
			    struct scratch_fs *self,
			    const char *where)
{
	ASSERT_EQ(0, do_umount(self))
		TH_LOG("%s: umount %s: %s", where, self->mnt, strerror(errno));
	ASSERT_EQ(0, fsck_status(self))
		TH_LOG("%s: e2fsck -fn %s: expected exit 0", where, self->dev);
	ASSERT_EQ(0, do_mount(self, self->mount_opts))
		TH_LOG("%s: mount -o '%s': %s", where, self->mount_opts,
		       strerror(errno));
}

static void cleanup_dirs(struct scratch_fs *self)
{
	do_umount(self);
	if (self->dev_fd >= 0)
		close(self->dev_fd);
	self->dev_fd = -1;
	unlink(self->image);
	rmdir(self->mnt);
	rmdir(self->dir);
}

FIXTURE_SETUP(ext4_short_write)
{
	struct scratch_fs *fs = &self->fs;
	char *argv[24], opts[128], *tok, *save, *tmp;
	struct statvfs sv;
	int argc = 0, fd;

	fs->dev_fd = -1;
	fs->page = sysconf(_SC_PAGESIZE);
	fs->path = variant->path;
	fs->name = variant->name;
	fs->mount_opts = variant->mount_opts;
	if (geteuid())
		SKIP(return, "needs root (mount, loop devices)");
	if (!have_program("mkfs.ext4") || !have_program("e2fsck"))
		SKIP(return, "mkfs.ext4 or e2fsck not installed");

	tmp = getenv("TMPDIR");
	snprintf(fs->dir, sizeof(fs->dir), "%s/ext4_bw.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ASSERT_NE(NULL, mkdtemp(fs->dir));
	snprintf(fs->image, sizeof(fs->image), "%s/image", fs->dir);
	snprintf(fs->mnt, sizeof(fs->mnt), "%s/mnt", fs->dir);
	ASSERT_EQ(0, mkdir(fs->mnt, 0700));
	fd = open(fs->image, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, IMAGE_BYTES));
	close(fd);

	if (attach_device(fs)) {
		cleanup_dirs(fs);
		SKIP(return, "no free loop device (the test formats only a device it created)");
	}

	argv[argc++] = "mkfs.ext4";
	argv[argc++] = "-q";
	argv[argc++] = "-F";
	argv[argc++] = "-E";
	argv[argc++] = "lazy_itable_init=0,lazy_journal_init=0,nodiscard";
	snprintf(opts, sizeof(opts), "%s", variant->mkfs_opts);
	for (tok = strtok_r(opts, " ", &save); tok && argc < 20;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc++] = fs->dev;
	argv[argc] = NULL;
	if (run_quiet(argv)) {
		cleanup_dirs(fs);
		ASSERT_TRUE(false)
			TH_LOG("mkfs.ext4 %s %s failed", variant->mkfs_opts,
			       fs->dev);
	}

	if (do_mount(fs, variant->mount_opts)) {
		int err = errno;

		if (err == EINVAL && strstr(variant->mount_opts, "buffered_iomap") &&
		    !do_mount(fs, "")) {
			cleanup_dirs(fs);
			SKIP(return, "%s",
			     "buffered_iomap rejected: no ext4 iomap write path");
		}
		cleanup_dirs(fs);
		ASSERT_TRUE(false)
			TH_LOG("mount %s -o '%s': %s", fs->dev,
			       variant->mount_opts, strerror(err));
	}

	ASSERT_EQ(0, statvfs(fs->mnt, &sv));
	fs->bs = sv.f_bsize;
	fs->cluster = strstr(variant->mkfs_opts, "bigalloc") ?
			16384 / fs->bs : 1;
	fs->journal = !strstr(variant->mkfs_opts, "^has_journal");
	snprintf(fs->sysfs_dab, sizeof(fs->sysfs_dab),
		 "/sys/fs/ext4/%s/delayed_allocation_blocks",
		 strrchr(fs->dev, '/') + 1);
	ASSERT_LE(0, read_dab(fs))
		TH_LOG("cannot read %s", fs->sysfs_dab);
	note("%s: kernel %s; known issues %s; stale-tail poison %#x: %s",
	     fs->name, run_cfg.release,
	     run_cfg.strict ? "fail (--known=fail)" : "are XFAIL (--known=report)",
	     stale_poison(), run_cfg.poison_why);
}

FIXTURE_TEARDOWN(ext4_short_write)
{
	struct scratch_fs *fs = &self->fs;
	bool was_set_up = fs->dev_fd >= 0;
	int umount_ret, fsck = 0;

	fault_restore();
	umount_ret = do_umount(fs);
	if (was_set_up && !umount_ret)
		fsck = fsck_status(fs);
	cleanup_dirs(fs);
	EXPECT_EQ(0, umount_ret)
		TH_LOG("teardown: umount %s failed", fs->mnt);
	EXPECT_EQ(0, fsck)
		TH_LOG("teardown: e2fsck -fn %s: expected exit 0, seen %d",
		       fs->dev, fsck);
	if (was_set_up)
		known_issue_verdict(_metadata, fs);
}

/* ---- the model of one scenario ---- */

/* Differing bytes check_data() found to be a KI_STALE_TAIL signature. */
struct stale_seen {
	const char *stage;
	long n, first, last;	/* how many, where */
	long lo, hi;		/* the window they had to lie in */
};

#define MAX_STALE_SEEN		4

struct model {
	const struct scenario *sc;
	long bs;		/* block size, for messages */
	long pos;		/* write position */
	long fault;		/* first unreadable file offset */
	long count;		/* bytes asked for */
	long old_size;		/* i_size before the write */
	long exp_ret;		/* -errno or bytes */
	long ret;		/* what the write returned, -errno or bytes */
	long size;		/* i_size expected after the write */
	long nblocks;		/* blocks compared */
	unsigned char *data;	/* expected file bytes */
	enum bstate before[MAX_FILE_BYTES / 1024];
	enum bstate st[NR_STAGES][MAX_FILE_BYTES / 1024];
	int nstale;		/* stages with KI_STALE_TAIL bytes */
	struct stale_seen stale[MAX_STALE_SEEN];
};

/* Bytes the kernel copies into the folio at pos: to the fault or page end. */
static long first_folio_copied(const struct scratch_fs *self,
			       const struct model *m)
{
	long page_end = (m->pos / (long)self->page + 1) * self->page;

	return (m->fault < page_end ? m->fault : page_end) - m->pos;
}

/* "7.2.13" for a KERNEL_VERSION() number. */
static const char *kver_str(unsigned int v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
	return buf;
}

/*
 * Whether a row of known_issues[] can match on @self at all: its kind,
 * write path, journal and kernel versions.  The outcome is matched by
 * the caller.
 */
static bool known_issue_applies(const struct known_issue *ki,
				const struct scratch_fs *self,
				enum ki_kind kind)
{
	return ki->kind == kind && (ki->paths & PATH_BIT(self->path)) &&
	       (ki->journal == KI_JOURNAL_ANY || self->journal) &&
	       run_cfg.kver >= ki->first_affected;
}

/* Hits of the @kind rows of known_issues[] that apply to @self. */
static void known_issue_totals(const struct scratch_fs *self,
			       enum ki_kind kind, const char *unit)
{
	const struct known_issue *ki;
	unsigned int i;
	char v[16];

	for (i = 0; i < NR_KNOWN_ISSUES; i++) {
		ki = &known_issues[i];
		if (!known_issue_applies(ki, self, kind))
			continue;
		note("KNOWN ISSUE total: %s: %d %s matched %s \"%s\" (kernel %s >= %s, commit %s)",
		     self->name, ki_hits[i].count, unit, ki->id, ki->name,
		     run_cfg.release, kver_str(ki->first_affected, v, sizeof(v)),
		     ki->commit);
	}
}

/*
 * The KI_STALE_TAIL row of known_issues[] that @m's write can be, or -1;
 * [*lo, *hi) is where its bytes may differ: up to the end of the page
 * while in the page cache, of the block once @reread from the device.
 */
static int stale_window(const struct scratch_fs *self, const struct model *m,
			bool reread, long *lo, long *hi)
{
	long bs = self->bs, pg = self->page, end = m->pos + m->count, b;
	unsigned int i;

	if (bs >= pg || !(m->pos % bs) || m->ret <= 0 || m->ret != m->exp_ret ||
	    m->ret != first_folio_copied(self, m) || end > m->old_size)
		return -1;
	for (b = m->pos / bs; b < (end + bs - 1) / bs; b++)
		if (m->before[b] != B_HOLE)
			return -1;
	*lo = m->pos + m->ret;
	*hi = reread ? (*lo / bs + 1) * bs : (*lo / pg + 1) * pg;
	for (i = 0; i < NR_KNOWN_ISSUES; i++)
		if (known_issue_applies(&known_issues[i], self, KI_STALE_TAIL))
			return i;
	return -1;
}

/*
 * Why the differing bytes of @buf (@bad of them, in [@first, @last])
 * are not the stale tail [@lo, @hi) of the run's poison, or NULL if they
 * are.  In the window every expected byte is zero (a hole in i_size).
 */
static const char *stale_mismatch(const unsigned char *buf,
				  const struct model *m, long lo, long hi,
				  long bad, long first, long last,
				  char *why, size_t len)
{
	unsigned char p = stale_poison();
	long off;

	if (first < lo) {
		snprintf(why, len,
			 "differing bytes begin at offset %ld (block %ld), before pos + copied = %ld",
			 first, first / m->bs, lo);
		return why;
	}
	if (last >= hi) {
		snprintf(why, len,
			 "byte at offset %ld (block %ld) differs, past the window end %ld",
			 last, last / m->bs, hi);
		return why;
	}
	for (off = first; off <= last; off++) {
		if (buf[off] == m->data[off] || buf[off] == p)
			continue;
		snprintf(why, len, "byte at offset %ld (block %ld): expected poison %#x, seen %#x",
			 off, off / m->bs, p, buf[off]);
		return why;
	}
	if (run_cfg.page_poison && (first != lo || bad != hi - lo)) {
		snprintf(why, len,
			 "with page_poison every byte of [%ld, %ld) must be %#x; seen %ld of them in [%ld, %ld]",
			 lo, hi, p, bad, first, last);
		return why;
	}
	return NULL;
}

/* Blocks of the hole run holding @blk, clipped to [@lo, @hi). */
static void hole_run(const struct model *m, long blk, long lo, long hi,
		     long *start, long *end)
{
	*start = blk;
	*end = blk;
	if (blk >= hi || m->before[blk] != B_HOLE)
		return;
	while (*start > lo && m->before[*start - 1] == B_HOLE)
		(*start)--;
	while (*end < hi && m->before[*end] == B_HOLE)
		(*end)++;
}

/*
 * Expected state of every block for a write that returned @ret (bytes,
 * or < 0 for none).  @reach_end is the end of what the write asked the
 * file system for (smaller than pos + count under RLIMIT_FSIZE).
 */
static void model_blocks(struct scratch_fs *self,
			 struct model *m, long ret, long reach_end)
{
	const struct path_rule *rule = &path_rules[self->path];
	long bs = self->bs, b, lo, hi, run_lo, run_hi;
	long copied_end = m->pos + (ret > 0 ? ret : 0);
	long eof_blk = (m->size + bs - 1) / bs;
	int s;

	lo = m->pos / bs;
	hi = (reach_end + bs - 1) / bs;
	if (!rule->reach_page) {
		/* iomap: blocks mapped before the fault, then its hole run */
		hole_run(m, copied_end / bs, lo, hi, &run_lo, &run_hi);
		if (copied_end == reach_end)
			run_hi = hi;
		hi = run_hi > copied_end / bs ? run_hi : copied_end / bs;
		if (copied_end % bs)
			hi = hi > copied_end / bs + 1 ? hi : copied_end / bs + 1;
	}
	for (s = 0; s < NR_STAGES; s++) {
		for (b = 0; b < m->nblocks; b++) {
			enum bstate v = m->before[b];

			if (v == B_HOLE && b >= lo && b < hi) {
				if (b * bs < copied_end)
					v = rule->copied[s];
				else if (b >= eof_blk)
					v = rule->stale_past_eof[s];
				else
					v = rule->stale_in_size[s];
			}
			m->st[s][b] = v;
		}
	}
}

/*
 * delayed_allocation_blocks counts reserved clusters in blocks: a
 * cluster is reserved when it holds a delalloc block and no allocated
 * one (fs/ext4/inode.c ext4_insert_delayed_blocks()).  Not verified on
 * a bigalloc cluster that mixes stale delalloc and written blocks.
 */
static long model_dab(struct scratch_fs *self,
		      const enum bstate *st, long nblocks)
{
	long c, b, reserved = 0, cl = self->cluster;

	for (c = 0; c * cl < nblocks; c++) {
		bool delayed = false, allocated = false;

		for (b = c * cl; b < (c + 1) * cl && b < nblocks; b++) {
			delayed |= st[b] == B_DELALLOC;
			allocated |= st[b] == B_WRITTEN || st[b] == B_UNWRITTEN;
		}
		if (delayed && !allocated)
			reserved += cl;
	}
	return reserved;
}

/*
 * st_blocks: allocated clusters (bigalloc charges a whole cluster for
 * any allocated block in it) plus the blocks still reserved for delayed
 * allocation, which ext4_getattr() adds from i_reserved_data_blocks.
 */
static long model_st_blocks(struct scratch_fs *self,
			    const enum bstate *st, long nblocks)
{
	long c, b, blocks = 0, cl = self->cluster;

	for (c = 0; c * cl < nblocks; c++) {
		for (b = c * cl; b < (c + 1) * cl && b < nblocks; b++) {
			if (st[b] == B_WRITTEN || st[b] == B_UNWRITTEN) {
				blocks += cl;
				break;
			}
		}
	}
	blocks += model_dab(self, st, nblocks);
	return blocks * self->bs / 512;
}

/* ---- what the kernel says ---- */

static enum bstate extent_state(unsigned int flags)
{
	if (flags & EXT4_FIEMAP_EXTENT_HOLE)
		return B_HOLE;
	if (flags & FIEMAP_EXTENT_DELALLOC)
		return B_DELALLOC;
	if (flags & FIEMAP_EXTENT_UNWRITTEN)
		return B_UNWRITTEN;
	return B_WRITTEN;
}

/* FS_IOC_FIEMAP or EXT4_IOC_GET_ES_CACHE, spread out per block. */
static int query_blocks(int fd, unsigned long req, unsigned int bs,
			enum bstate *st, long nblocks, enum bstate absent)
{
	size_t len = sizeof(struct fiemap) +
		     MAX_EXTENTS * sizeof(struct fiemap_extent);
	struct fiemap *fm = calloc(1, len);
	unsigned int i;
	long b;

	if (!fm)
		return -1;
	for (b = 0; b < nblocks; b++)
		st[b] = absent;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = MAX_EXTENTS;
	if (req == EXT4_IOC_GET_ES_CACHE)
		fm->fm_flags = FIEMAP_FLAG_CACHE;
	if (ioctl(fd, req, fm)) {
		free(fm);
		return -1;
	}
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *fe = &fm->fm_extents[i];
		long first = fe->fe_logical / bs;
		long end = (fe->fe_logical + fe->fe_length + bs - 1) / bs;

		for (b = first; b < end && b < nblocks; b++)
			st[b] = extent_state(fe->fe_flags);
	}
	free(fm);
	return 0;
}

/* ---- the one checker ---- */

struct where {
	const char *variant;
	const char *row;
	const char *stage;
	bool reread;		/* page cache dropped: bytes from the device */
};

static void check_eq(struct __test_metadata *_metadata,
		     const struct where *w, const char *what, long long exp,
		     long long seen)
{
	EXPECT_EQ(exp, seen)
		TH_LOG("%s/%s %s: %s: expected %lld, seen %lld", w->variant,
		       w->row, w->stage, what, exp, seen);
}

/*
 * Compare the whole file with @m->data.  Differing bytes that are the
 * stale tail of a KI_STALE_TAIL row (stale_mismatch()) are kept in
 * @m->stale for report_stale() instead of failing here.
 */
static void check_data(struct __test_metadata *_metadata,
		       struct scratch_fs *self, const struct where *w,
		       int fd, struct model *m)
{
	unsigned char *buf = malloc(m->size + 1), p = stale_poison();
	long off, bad = 0, first = -1, last = -1, poisoned = 0;
	const char *why = NULL;
	long lo = 0, hi = 0;
	char whybuf[192];
	int row;
	ssize_t n;

	ASSERT_NE(NULL, buf);
	n = pread(fd, buf, m->size + 1, 0);
	check_eq(_metadata, w, "bytes read back (whole file)", m->size, n);
	row = stale_window(self, m, w->reread, &lo, &hi);
	for (off = 0; n == m->size && off < m->size; off++) {
		if (buf[off] == m->data[off])
			continue;
		bad++;
		if (first < 0)
			first = off;
		last = off;
		poisoned += buf[off] == p;
	}
	if (bad && row >= 0) {
		why = stale_mismatch(buf, m, lo, hi, bad, first, last, whybuf,
				     sizeof(whybuf));
		if (!why && m->nstale < MAX_STALE_SEEN) {
			m->stale[m->nstale++] = (struct stale_seen){
				w->stage, bad, first, last, lo, hi };
			free(buf);
			return;
		}
	}
	for (off = first, bad = 0; first >= 0 && off <= last; off++) {
		if (buf[off] == m->data[off])
			continue;
		if (bad++ < MAX_LOGGED)
			EXPECT_EQ(m->data[off], buf[off])
				TH_LOG("%s/%s %s: byte %ld (block %ld): expected %#x, seen %#x",
				       w->variant, w->row, w->stage, off,
				       off / m->bs, m->data[off], buf[off]);
	}
	if (bad)
		TH_LOG("%s/%s %s: %ld bytes differ in [%ld, %ld] (blocks %ld-%ld)",
		       w->variant, w->row, w->stage, bad, first, last,
		       first / m->bs, last / m->bs);
	if (poisoned)
		TH_LOG("%s/%s %s: %ld of them are the poison %#x: freed memory, never zeroed",
		       w->variant, w->row, w->stage, poisoned, p);
	if (row >= 0 && why)
		TH_LOG("%s/%s %s: not known issue %s (window [%ld, %ld)): %s",
		       w->variant, w->row, w->stage, known_issues[row].id, lo,
		       hi, why);
	free(buf);
}

static void check_blocks(struct __test_metadata *_metadata,
			 struct scratch_fs *self,
			 const struct where *w, int fd, const struct model *m,
			 enum stage s, bool exact)
{
	enum bstate seen[MAX_FILE_BYTES / 1024];
	long b, bad = 0;

	/* FIEMAP: holes are absent, everything else must match. */
	ASSERT_EQ(0, query_blocks(fd, FS_IOC_FIEMAP, self->bs, seen,
				  m->nblocks, B_HOLE));
	for (b = 0; exact && b < m->nblocks; b++) {
		if (seen[b] != m->st[s][b] && bad++ < MAX_LOGGED)
			EXPECT_EQ(m->st[s][b], seen[b])
				TH_LOG("%s/%s %s: FIEMAP block %ld: expected %s, seen %s",
				       w->variant, w->row, w->stage, b,
				       bstate_name[m->st[s][b]],
				       bstate_name[seen[b]]);
	}
	/*
	 * Extent status cache: delayed extents always live there, so
	 * delalloc must match exactly; other blocks may be uncached.
	 */
	if (query_blocks(fd, EXT4_IOC_GET_ES_CACHE, self->bs, seen,
			 m->nblocks, B_UNKNOWN))
		return;
	for (b = 0; exact && b < m->nblocks; b++) {
		enum bstate e = m->st[s][b], v = seen[b];
		bool ok = v == e || (v == B_UNKNOWN && e != B_DELALLOC);

		if (!ok && bad++ < MAX_LOGGED)
			EXPECT_EQ(e, v)
				TH_LOG("%s/%s %s: ES cache block %ld: expected %s, seen %s",
				       w->variant, w->row, w->stage, b,
				       bstate_name[e], bstate_name[v]);
	}
}

static void check_stage(struct __test_metadata *_metadata,
			struct scratch_fs *self,
			int fd, struct model *m, enum stage s, bool exact)
{
	struct where w = { self->name, m->sc->name, stage_name[s],
			   s == AFTER_REMOUNT };
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	check_eq(_metadata, &w, "st_size", m->size, st.st_size);
	check_data(_metadata, self, &w, fd, m);
	check_blocks(_metadata, self, &w, fd, m, s, exact);
	if (exact) {
		check_eq(_metadata, &w, "delayed_allocation_blocks",
			 model_dab(self, m->st[s], m->nblocks),
			 read_dab(self));
	} else if (s != AFTER_WRITE) {
		check_eq(_metadata, &w, "delayed_allocation_blocks", 0, read_dab(self));
	}
	if (exact)
		check_eq(_metadata, &w, "st_blocks",
			 model_st_blocks(self, m->st[s], m->nblocks),
			 st.st_blocks);
}

/* ---- running one row ---- */

struct user_buf {
	void *map;
	size_t map_len;
	char *buf;		/* first byte the write copies from */
};

/*
 * Map @prefix readable bytes (holding generation 2 of file offsets
 * @pos...) followed by pages the kernel cannot read.
 */
static int make_user_buf(struct scratch_fs *self,
			 struct user_buf *u, enum fault_kind kind,
			 long pos, long prefix, long count)
{
	long pg = self->page, good = (prefix + pg - 1) / pg * pg;
	long bad = (count - prefix + pg - 1) / pg * pg + pg;
	long i;

	u->map_len = good + bad;
	u->map = mmap(NULL, u->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->map == MAP_FAILED)
		return -1;
	u->buf = (char *)u->map + good - prefix;
	for (i = 0; i < prefix; i++)
		u->buf[i] = pattern(pos + i, 2);
	if (kind == F_FSIZE || kind == F_ENOSPC)
		return 0;
	if (kind == F_MUNMAP) {
		munmap((char *)u->map + good, bad);
		u->map_len = good;
		return 0;
	}
	return mprotect((char *)u->map + good, bad, PROT_NONE);
}

static void free_user_buf(struct user_buf *u)
{
	if (u->map && u->map != MAP_FAILED && u->map_len)
		munmap(u->map, u->map_len);
	u->map = NULL;
}

static ssize_t issue_write(int fd, const struct user_buf *u,
			   enum fault_kind kind, long pos, long prefix,
			   long count)
{
	struct iovec iov[2] = {
		{ u->buf, prefix },
		{ u->buf + prefix, count - prefix },
	};

	if (kind == F_BAD_IOV)
		return pwritev(fd, iov, 2, pos);
	return pwrite(fd, u->buf, count, pos);
}

static int open_row_file(struct scratch_fs *self,
			 const char *name, int flags)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", self->mnt, name);
	return open(path, flags, 0600);
}

/* Create the row's file with its initial contents, written back. */
static int prepare_file(struct __test_metadata *_metadata,
			struct scratch_fs *self,
			struct model *m, const struct scenario *sc)
{
	long init = boff_val(self, sc->init_data), size, b, off;
	unsigned char *buf;
	int fd;

	size = boff_val(self, sc->init_size);
	if (size < init)
		size = init;
	fd = open_row_file(self, sc->name, O_RDWR | O_CREAT | O_TRUNC);
	EXPECT_LE(0, fd) TH_LOG("%s: create: %s", sc->name, strerror(errno));
	if (fd < 0)
		return -1;
	buf = malloc(init + 1);
	for (off = 0; off < init; off++)
		buf[off] = pattern(off, 1);
	EXPECT_EQ(init, pwrite(fd, buf, init, 0));
	free(buf);
	EXPECT_EQ(0, ftruncate(fd, size));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));

	memset(m, 0, sizeof(*m));
	m->sc = sc;
	m->bs = self->bs;
	m->old_size = size;
	m->data = calloc(1, MAX_FILE_BYTES);
	for (off = 0; off < init; off++)
		m->data[off] = pattern(off, 1);
	for (b = 0; b < (long)(MAX_FILE_BYTES / 1024); b++)
		m->before[b] = b * (long)self->bs < init ? B_WRITTEN : B_HOLE;
	m->pos = sc->append ? size : boff_val(self, sc->pos);
	m->fault = sc->kind == F_ENOSPC ? m->pos : boff_val(self, sc->fault);
	m->count = (m->fault / self->page + 1) * self->page - m->pos;
	return fd;
}

/* Expected size and contents once the write returned @ret. */
static void model_result(struct scratch_fs *self,
			 struct model *m, long ret)
{
	long off, end;

	m->size = m->old_size;
	if (ret > 0 && m->pos + ret > m->size)
		m->size = m->pos + ret;
	for (off = m->pos; ret > 0 && off < m->pos + ret; off++)
		m->data[off] = pattern(off, 2);
	end = m->pos + m->count > m->size ? m->pos + m->count : m->size;
	m->nblocks = (end + self->bs - 1) / self->bs + self->cluster;
	if (m->nblocks > (long)(MAX_FILE_BYTES / self->bs))
		m->nblocks = MAX_FILE_BYTES / self->bs;
}

/* Block states as letters: W written, U unwritten, D delalloc, . hole. */
static const char *block_map(const enum bstate *st, long nblocks,
			     char *out)
{
	static const char letter[] = {
		[B_HOLE] = '.', [B_DELALLOC] = 'D', [B_UNWRITTEN] = 'U',
		[B_WRITTEN] = 'W', [B_UNKNOWN] = '?',
	};
	long b;

	for (b = 0; b < nblocks; b++)
		out[b] = letter[st[b]];
	out[b] = '\0';
	return out;
}

/* The per-path outcome a row asserts, so runs on two paths compare. */
static void show_row(struct scratch_fs *self, const struct model *m)
{
	char map[NR_STAGES][MAX_FILE_BYTES / 1024 + 1];
	int s;

	for (s = 0; s < NR_STAGES; s++)
		block_map(m->st[s], m->nblocks, map[s]);
	note("%s/%s: returned %ld; blocks W/U/D/. write %s fsync %s remount %s; dab %ld",
	     self->name, m->sc->name, m->exp_ret, map[AFTER_WRITE],
	     map[AFTER_FSYNC], map[AFTER_REMOUNT],
	     model_dab(self, m->st[AFTER_WRITE], m->nblocks));
}

static void finish_row(struct __test_metadata *_metadata,
		       struct scratch_fs *self,
		       struct model *m, int fd, bool exact)
{
	char name[160];

	if (exact)
		show_row(self, m);
	check_stage(_metadata, self, fd, m, AFTER_WRITE, exact);
	ASSERT_EQ(0, fsync(fd));
	check_stage(_metadata, self, fd, m, AFTER_FSYNC, exact);
	/* re-read from the device rather than the page cache */
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	check_data(_metadata, self, &(struct where){ self->name,
		   m->sc->name, "after fadvise DONTNEED", true }, fd, m);
	close(fd);

	snprintf(name, sizeof(name), "row %s", m->sc->name);
	remount_checked(_metadata, self, name);
	fd = open_row_file(self, m->sc->name, O_RDONLY);
	ASSERT_LE(0, fd);
	check_stage(_metadata, self, fd, m, AFTER_REMOUNT, exact);
	close(fd);
}

/*
 * Leave USER_POISON in the pages the allocator hands out next: page
 * cache of a file that is dropped unwritten.  A folio the write
 * allocates then starts with USER_POISON, not zeros, so bytes the kernel
 * neither copied nor zeroed show up (no init_on_alloc/init_on_free
 * assumed).  Best effort: nothing makes the allocator reuse these pages.
 * Not needed under page_poison, where every freed page is 0xaa already.
 */
static void poison_free_pages(struct __test_metadata *_metadata,
			      struct scratch_fs *self)
{
	char *buf, path[320];
	int fd;

	if (run_cfg.page_poison)
		return;
	buf = malloc(POISON_BYTES);
	ASSERT_NE(NULL, buf);
	memset(buf, USER_POISON, POISON_BYTES);
	fd = open_row_file(self, "poison", O_RDWR | O_CREAT | O_TRUNC);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)POISON_BYTES, write(fd, buf, POISON_BYTES));
	EXPECT_EQ(0, ftruncate(fd, 0));
	close(fd);
	free(buf);
	snprintf(path, sizeof(path), "%s/poison", self->mnt);
	EXPECT_EQ(0, unlink(path));
}

/* Fill the file system, then append until it is full. */
static long fill_and_append(struct __test_metadata *_metadata,
			    struct scratch_fs *self,
			    struct model *m, int fd, int *err)
{
	struct user_buf u;
	long total = 0, filled = 0, step, i;
	ssize_t n = 0;
	int filler;

	/* fill the fs completely, then give back a quarter chunk */
	filler = open_row_file(self, "filler", O_RDWR | O_CREAT | O_TRUNC);
	ASSERT_LE(0, filler);
	for (step = ENOSPC_CHUNK; step >= (long)self->bs * self->cluster;
	     step /= 4)
		while (!fallocate(filler, 0, filled, step))
			filled += step;
	ASSERT_LT((long)ENOSPC_CHUNK / 4, filled);
	ASSERT_EQ(0, ftruncate(filler, filled - ENOSPC_CHUNK / 4));
	ASSERT_EQ(0, syncfs(filler));
	close(filler);
	ASSERT_NE(NULL, (u.map = mmap(NULL, ENOSPC_CHUNK,
				      PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
	u.buf = u.map;
	*err = 0;
	for (i = 0; i < 64; i++) {
		long off;

		for (off = 0; off < (long)ENOSPC_CHUNK; off++)
			u.buf[off] = pattern(m->pos + total + off, 2);
		n = pwrite(fd, u.buf, ENOSPC_CHUNK, m->pos + total);
		if (n < 0) {
			*err = errno;
			break;
		}
		EXPECT_GE((long)ENOSPC_CHUNK, n);
		total += n;
	}
	munmap(u.map, ENOSPC_CHUNK);
	return total;
}

static void delete_row_file(struct __test_metadata *_metadata,
			    struct scratch_fs *self,
			    const char *name)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", self->mnt, name);
	EXPECT_EQ(0, unlink(path))
		TH_LOG("unlink %s: %s", path, strerror(errno));
}

/*
 * The bytes check_data() kept for a KI_STALE_TAIL row: a known issue if
 * every other check of the row passed (the caller starts each row with
 * exit_code KSFT_PASS), else failures like any other differing bytes.
 */
static void report_stale(struct __test_metadata *_metadata,
			 struct scratch_fs *self, const struct model *m)
{
	bool clean = _metadata->exit_code != KSFT_FAIL;
	const struct stale_seen *s;
	long lo, hi;
	int i, row;

	if (!m->nstale)
		return;
	row = stale_window(self, m, false, &lo, &hi);
	ASSERT_LE(0, row);
	for (i = 0; i < m->nstale; i++) {
		s = &m->stale[i];
		if (!clean) {
			EXPECT_EQ(0, s->n)
				TH_LOG("%s/%s %s: %ld bytes differ in [%ld, %ld], all %#x%s",
				       self->name, m->sc->name, s->stage, s->n,
				       s->first, s->last, stale_poison(),
				       "; not a known issue: the row failed otherwise");
			continue;
		}
		note("KNOWN ISSUE %s evidence: %s/%s %s: %ld bytes %#x in [%ld, %ld], %s",
		     known_issues[row].id, self->name, m->sc->name, s->stage,
		     s->n, stale_poison(), s->first, s->last,
		     s->lo == m->pos + m->ret ? "from pos + copied" : "?");
	}
	if (clean)
		known_issue_hit(row, "%s: %ld bytes %#x from pos + copied = %ld (%s)",
				m->sc->name, m->stale[0].n, stale_poison(),
				m->stale[0].lo,
				run_cfg.page_poison ? "page_poison" :
				"user-space poison, best effort");
}

static void run_row(struct __test_metadata *_metadata,
		    struct scratch_fs *self,
		    const struct scenario *sc)
{
	struct where w = { self->name, sc->name, "write", false };
	struct user_buf u = { 0 };
	long prefix, reach_end, ret;
	struct rlimit old_rl, rl;
	struct model m;
	int fd, err = 0;

	fd = prepare_file(_metadata, self, &m, sc);
	ASSERT_LE(0, fd);
	prefix = m.fault - m.pos;

	if (sc->kind == F_ENOSPC) {
		long total = fill_and_append(_metadata, self, &m, fd, &err);
		unsigned char *big;

		check_eq(_metadata, &w, "errno of the write that found the fs full",
			 ENOSPC, err);
		/* about half a chunk was free: some bytes must have landed */
		EXPECT_LT(0, total)
			TH_LOG("%s/%s: nothing written before ENOSPC",
			       w.variant, w.row);
		big = realloc(m.data, m.pos + total + 1);
		ASSERT_NE(NULL, big);
		m.data = big;
		m.count = total;
		model_result(self, &m, total);
		check_data(_metadata, self, &w, fd, &m);
		ASSERT_EQ(0, fsync(fd));
		check_eq(_metadata, &w, "delayed_allocation_blocks after fsync", 0,
			 read_dab(self));
		close(fd);
		delete_row_file(_metadata, self, "filler");
		remount_checked(_metadata, self, sc->name);
		fd = open_row_file(self, sc->name, O_RDONLY);
		ASSERT_LE(0, fd);
		check_data(_metadata, self, &w, fd, &m);
		close(fd);
		free(m.data);
		return;
	}

	ASSERT_EQ(0, make_user_buf(self, &u, sc->kind, m.pos, prefix,
				   m.count));
	poison_free_pages(_metadata, self);
	reach_end = m.pos + m.count;
	if (sc->kind == F_FSIZE) {
		ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old_rl));
		rl = old_rl;
		rl.rlim_cur = m.fault;
		signal(SIGXFSZ, SIG_IGN);
		ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
		reach_end = m.fault;
	}

	ret = issue_write(fd, &u, sc->kind, m.pos, prefix, m.count);
	err = ret < 0 ? errno : 0;
	m.exp_ret = prefix ? prefix : -EFAULT;
	m.ret = ret < 0 ? -err : ret;
	check_eq(_metadata, &w, "write() return (bytes or -errno)", m.exp_ret,
		 m.ret);

	if (sc->kind == F_FSIZE) {
		ret = pwrite(fd, u.buf, 1, m.fault);
		err = ret < 0 ? errno : 0;
		check_eq(_metadata, &w, "write at the RLIMIT_FSIZE limit (-errno)",
			 -EFBIG, ret < 0 ? -err : ret);
		ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &old_rl));
	}
	free_user_buf(&u);

	ret = m.exp_ret;
	model_result(self, &m, ret);
	model_blocks(self, &m, ret, reach_end);
	finish_row(_metadata, self, &m, fd, true);
	report_stale(_metadata, self, &m);
	free(m.data);
}

TEST_F_TIMEOUT(ext4_short_write, scenarios, 300)
{
	struct scratch_fs *fs = &self->fs;
	unsigned int i;

	TH_LOG("path %s: %s", path_rules[fs->path].name,
	       path_rules[fs->path].source);
	for (i = 0; i < NR_SCENARIOS; i++) {
		int prev = _metadata->exit_code;

		/* report_stale() needs to know if this row alone failed */
		_metadata->exit_code = KSFT_PASS;
		run_row(_metadata, fs, &scenarios[i]);
		if (prev == KSFT_FAIL)
			_metadata->exit_code = KSFT_FAIL;
		delete_row_file(_metadata, fs, scenarios[i].name);
		EXPECT_EQ(0, read_dab(fs))
			TH_LOG("%s: delayed_allocation_blocks after unlink",
			       scenarios[i].name);
	}
	known_issue_totals(fs, KI_STALE_TAIL, "rows");
}

/* ---- fail-nth sweep ---- */

struct fault_setting {
	const char *file;
	const char *value;
	char saved[32];
	bool have_saved;
};

/*
 * Configured as syzkaller does (Documentation/fault-injection).  The
 * verbose reports are not rate limited (interval 0): every replayed
 * known-issue step must get its stack trace.
 */
static struct fault_setting fault_settings[] = {
	{ .file = "/sys/kernel/debug/failslab/ignore-gfp-wait", .value = "N" },
	{ .file = "/sys/kernel/debug/failslab/verbose", .value = "0" },
	{ .file = "/sys/kernel/debug/failslab/verbose_ratelimit_interval_ms", .value = "0" },
	{ .file = "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .file = "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", .value = "N" },
	{ .file = "/sys/kernel/debug/fail_page_alloc/min-order", .value = "0" },
	{ .file = "/sys/kernel/debug/fail_page_alloc/verbose", .value = "0" },
	{ .file = "/sys/kernel/debug/fail_page_alloc/verbose_ratelimit_interval_ms", .value = "0" },
	{ .file = "/sys/kernel/debug/fail_usercopy/verbose", .value = "0" },
	{ .file = "/sys/kernel/debug/fail_usercopy/verbose_ratelimit_interval_ms", .value = "0" },
};

#define NR_FAULT_SETTINGS ARRAY_SIZE(fault_settings)

static int fault_setup(void)
{
	struct fault_setting *f;
	unsigned int i;

	for (i = 0; i < NR_FAULT_SETTINGS; i++) {
		f = &fault_settings[i];
		if (read_str(f->file, f->saved, sizeof(f->saved)))
			return -1;
		f->have_saved = true;
		if (write_str(f->file, f->value))
			return -1;
	}
	return 0;
}

static void fault_restore(void)
{
	unsigned int i;

	for (i = 0; i < NR_FAULT_SETTINGS; i++) {
		if (fault_settings[i].have_saved)
			write_str(fault_settings[i].file,
				  fault_settings[i].saved);
		fault_settings[i].have_saved = false;
	}
}

/* Disarm fail-nth; true if the armed fault was injected. */
static bool fail_nth_disarm(int nth_fd)
{
	char buf[32] = "";
	ssize_t n;

	n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		pwrite(nth_fd, "0", 1, 0);
	return n > 0 && atoi(buf) == 0;
}

/* Set "verbose" of every fault-injection attribute fail-nth may hit. */
static void fault_verbose(const char *val)
{
	unsigned int i;

	for (i = 0; i < NR_FAULT_SETTINGS; i++)
		if (strstr(fault_settings[i].file, "/verbose") &&
		    !strstr(fault_settings[i].file, "ratelimit"))
			write_str(fault_settings[i].file, val);
}

/* One sweep step: prepare @sc's file, write it with fail-nth = @n. */
struct step {
	struct model m;
	int fd;
	long ret;
	int err;
	bool injected;
};

static void sweep_write(struct __test_metadata *_metadata,
			struct scratch_fs *self, const struct scenario *sc,
			int nth_fd, int n, struct step *st)
{
	struct user_buf u = { 0 };
	struct rlimit old_rl, rl;
	char nbuf[16];

	st->fd = prepare_file(_metadata, self, &st->m, sc);
	ASSERT_LE(0, st->fd);
	ASSERT_EQ(0, make_user_buf(self, &u, sc->kind, st->m.pos,
				   st->m.fault - st->m.pos, st->m.count));
	if (sc->kind == F_FSIZE) {
		ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old_rl));
		rl = old_rl;
		rl.rlim_cur = st->m.fault;
		signal(SIGXFSZ, SIG_IGN);
		ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	}
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	ASSERT_EQ((ssize_t)strlen(nbuf), pwrite(nth_fd, nbuf, strlen(nbuf), 0));
	st->ret = issue_write(st->fd, &u, sc->kind, st->m.pos,
			      st->m.fault - st->m.pos, st->m.count);
	st->err = st->ret < 0 ? errno : 0;
	st->injected = fail_nth_disarm(nth_fd);
	if (sc->kind == F_FSIZE)
		ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &old_rl));
	free_user_buf(&u);
}

static void sweep_step_done(struct __test_metadata *_metadata,
			    struct scratch_fs *self, struct step *st)
{
	close(st->fd);
	free(st->m.data);
	delete_row_file(_metadata, self, st->m.sc->name);
}

/* True if [pos, pos + len) holds the bytes the write was given. */
static bool written_on_file(int fd, const struct model *m, long len)
{
	unsigned char *buf = malloc(len + 1);
	bool ok;
	long off;

	if (!buf)
		return false;
	ok = pread(fd, buf, len, m->pos) == len;
	for (off = 0; ok && off < len; off++)
		ok = buf[off] == pattern(m->pos + off, 2);
	free(buf);
	return ok;
}

/*
 * The KI_ERROR_AFTER_SIZE row of known_issues[] this outcome can be, or
 * -1.  The injection site is checked by confirm_known_issue().
 */
static int known_issue_find(const struct scratch_fs *self,
			    const struct step *st, long size)
{
	long copied = first_folio_copied(self, &st->m);
	const struct known_issue *ki;
	unsigned int i;

	for (i = 0; i < NR_KNOWN_ISSUES; i++) {
		ki = &known_issues[i];
		if (!known_issue_applies(ki, self, KI_ERROR_AFTER_SIZE))
			continue;
		if (st->ret != -1 || st->err != ki->err)
			continue;
		if (copied <= 0 || size <= st->m.old_size ||
		    size != st->m.pos + copied)
			continue;
		if (!written_on_file(st->fd, &st->m, copied))
			continue;
		return i;
	}
	return -1;
}

#define MAX_FRAMES		64
#define FRAME_LEN		64

/* The injected faults and the call trace of the last one. */
struct fault_trace {
	int faults;		/* "FAULT_INJECTION: forcing a failure" */
	char attr[32];		/* failslab, fail_page_alloc, ... */
	int n;			/* frames, innermost first */
	char frame[MAX_FRAMES][FRAME_LEN];
	bool guess[MAX_FRAMES];	/* printed with "? ": maybe stale */
};

/*
 * Keep only the frames the unwinder was sure of, if it was sure of any;
 * UML's stack scan (arch/um/kernel/stacktrace.c) marks every frame "? "
 * without frame pointers, and then all are kept.
 */
static void drop_guessed_frames(struct fault_trace *ft)
{
	int i, kept = 0;

	for (i = 0; i < ft->n; i++)
		kept += !ft->guess[i];
	if (!kept)
		return;
	for (i = 0, kept = 0; i < ft->n; i++)
		if (!ft->guess[i])
			memmove(ft->frame[kept++], ft->frame[i], FRAME_LEN);
	ft->n = kept;
}

/*
 * Whether @s starts with a symbol and its "+0xoffset/0xsize", as a call
 * trace prints a frame.
 */
static bool is_frame(const char *s)
{
	size_t sym = strcspn(s, "+ \t");

	return sym && !strncmp(s + sym, "+0x", 3) &&
	       strchr(s + sym, '/') &&
	       !strncmp(strchr(s + sym, '/'), "/0x", 3);
}

/*
 * Read the /dev/kmsg records from @kfd on: count the injected faults and
 * keep the attribute name and the call trace (function names, offsets
 * stripped) of the last one.
 */
static void read_fault_trace(int kfd, struct fault_trace *ft)
{
	char rec[8192], *msg, *fn;
	bool in_trace = false, guess;
	ssize_t n;

	memset(ft, 0, sizeof(*ft));
	for (;;) {
		n = read(kfd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records were overwritten */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "FAULT_INJECTION: forcing a failure")) {
			ft->faults++;
			ft->n = 0;
			ft->attr[0] = '\0';
			in_trace = false;
		}
		/* "name <attr>, interval ...": a record of its own or not */
		fn = strstr(msg, "name ");
		if (fn && strstr(fn, ", interval ")) {
			snprintf(ft->attr, sizeof(ft->attr), "%.*s",
				 (int)strcspn(fn + 5, ","), fn + 5);
			continue;
		}
		if (strstr(msg, "Call Trace:")) {
			in_trace = true;
			continue;
		}
		if (!in_trace || ft->n >= MAX_FRAMES)
			continue;
		/*
		 * UML prints a frame as "[<address>] ? sym+0x1/0x2", x86_64
		 * as " ? sym+0x1/0x2"; markers such as "<TASK>" and register
		 * lines have no "+0x../0x.." and are passed over.
		 */
		fn = msg + strspn(msg, " \t");
		if (!strncmp(fn, "[<", 2)) {
			fn = strstr(fn, "] ");
			if (!fn)
				continue;
			fn += 2;
		}
		guess = !strncmp(fn, "? ", 2);
		if (guess)
			fn += 2;
		if (!is_frame(fn))
			continue;
		/* a function's own address on the stack, not a return one */
		if (strstr(fn, "+0x0/"))
			continue;
		ft->guess[ft->n] = guess;
		snprintf(ft->frame[ft->n++], FRAME_LEN, "%.*s",
			 (int)strcspn(fn, "+ "), fn);
	}
	drop_guessed_frames(ft);
}

static int frame_index(const struct fault_trace *ft, int from,
		       const char *name)
{
	int i;

	for (i = from; i < ft->n; i++)
		if (!strcmp(ft->frame[i], name))
			return i;
	return -1;
}

static bool fs_frame(const char *fn)
{
	return strstr(fn, "ext4_") || strstr(fn, "jbd2_");
}

/* Why @ft does not show @site, or NULL if it does. */
static const char *site_mismatch(const struct ki_site *site,
				 const struct fault_trace *ft, char *why,
				 size_t len)
{
	int callee, caller, i, v;
	bool allowed;

	callee = frame_index(ft, 0, site->callee);
	if (callee < 0) {
		snprintf(why, len, "expected %s in the call trace, seen %d frames without it",
			 site->callee, ft->n);
		return why;
	}
	caller = frame_index(ft, callee + 1, site->caller);
	if (caller < 0) {
		snprintf(why, len, "expected %s called from %s, seen no %s above frame %d",
			 site->callee, site->caller, site->caller, callee);
		return why;
	}
	for (i = 0; i < callee; i++) {
		if (!fs_frame(ft->frame[i]))
			continue;
		snprintf(why, len,
			 "expected the fault injected inside %s, seen %s at frame %d below it",
			 site->callee, ft->frame[i], i);
		return why;
	}
	for (i = callee + 1; i < caller; i++) {
		if (!fs_frame(ft->frame[i]))
			continue;
		/* the stack scan may show a return address twice */
		allowed = !strcmp(ft->frame[i], site->callee);
		for (v = 0; v < (int)ARRAY_SIZE(site->via) && site->via[v]; v++)
			allowed |= !strcmp(ft->frame[i], site->via[v]);
		if (!allowed) {
			snprintf(why, len,
				 "expected %s called from %s, seen %s at frame %d between them",
				 site->callee, site->caller, ft->frame[i], i);
			return why;
		}
	}
	return NULL;
}

/* The frames of @ft from the first ext4 or jbd2 one, for the log. */
static void trace_text(const struct fault_trace *ft, char *out, size_t len)
{
	size_t used = 0;
	int i, first = 0;

	while (first < ft->n && !fs_frame(ft->frame[first]))
		first++;
	if (first == ft->n)
		first = 0;
	out[0] = '\0';
	for (i = first; i < ft->n && used + FRAME_LEN + 4 < len; i++)
		used += snprintf(out + used, len - used, "%s%s",
				 i > first ? " < " : "", ft->frame[i]);
}

/* What one verbose=2 replay of a fail-nth step showed. */
struct replay {
	int row;		/* known_issue_find() of its outcome */
	long ret, size;
	int err;
	struct fault_trace ft;
};

static void replay_step(struct __test_metadata *_metadata,
			struct scratch_fs *self, const struct scenario *sc,
			int nth_fd, int n, int kfd, struct replay *r)
{
	struct stat sb;
	struct step st;

	lseek(kfd, 0, SEEK_END);
	fault_verbose("2");
	sweep_write(_metadata, self, sc, nth_fd, n, &st);
	fault_verbose("0");
	ASSERT_EQ(0, fstat(st.fd, &sb));
	r->row = known_issue_find(self, &st, sb.st_size);
	r->ret = st.ret;
	r->err = st.err;
	r->size = sb.st_size;
	sweep_step_done(_metadata, self, &st);
	read_fault_trace(kfd, &r->ft);
}

/*
 * The step is known issue @row only if its one injected fault's call
 * trace shows the row's site. The sweep runs with fault-injection
 * verbose=2, so the step's own trace (@own) is the evidence. Without it
 * (no /dev/kmsg, or not exactly one fault logged) step @n of @sc is
 * replayed: the order of fault points is not quite deterministic (the
 * replay starts from other slab and page-cache state: whether a kmalloc()
 * refills its slab from the page allocator moves the n-th point), so it
 * is replayed at n, n + 1, n - 1, ... n +/- 4 until one repeats the
 * outcome; its trace must then match. Anything else fails here, naming
 * what was expected and what was seen.
 */
static const int replay_shift[] = { 0, 1, -1, 2, -2, 3, -3, 4, -4 };

static void confirm_known_issue(struct __test_metadata *_metadata,
				struct scratch_fs *self,
				const struct scenario *sc, int nth_fd, int n,
				int row, long old_size, long size,
				const struct fault_trace *own)
{
	const struct known_issue *ki = &known_issues[row];
	struct replay *r = calloc(1, sizeof(*r));
	char why[256], text[512];
	const char *bad = NULL;
	int kfd, tries = 0;

	ASSERT_NE(NULL, r);
	/*
	 * The step's own trace, logged while the sweep ran with verbose=2,
	 * is the evidence when it shows exactly one fault: no replay, whose
	 * n-th point may fall elsewhere.
	 */
	if (own && own->faults == 1 && own->n) {
		r->row = row;
		r->ft = *own;
		tries = -1;
		goto check;
	}
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	EXPECT_LE(0, kfd)
		TH_LOG("%s/%s fail-nth=%d: %s: expected /dev/kmsg for the trace, seen %s",
		       self->name, sc->name, n, ki->id, strerror(errno));
	if (kfd < 0) {
		free(r);
		return;
	}
	do {
		if (n + replay_shift[tries] >= 1)
			replay_step(_metadata, self, sc, nth_fd,
				    n + replay_shift[tries], kfd, r);
	} while (r->row != row && ++tries < (int)ARRAY_SIZE(replay_shift));
	close(kfd);
check:
	if (r->row != row) {
		snprintf(why, sizeof(why),
			 "%d replays: expected %s again (-1/%s, st_size %ld), seen last %ld/%s, st_size %ld",
			 tries, ki->id, errno_name(ki->err), size, r->ret,
			 r->ret < 0 ? errno_name(r->err) : "-", r->size);
		bad = why;
	} else if (r->ft.faults != 1 || !r->ft.n) {
		snprintf(why, sizeof(why),
			 "replay: expected 1 injected fault with a call trace in /dev/kmsg, seen %d faults, %d frames",
			 r->ft.faults, r->ft.n);
		bad = why;
	} else {
		bad = site_mismatch(&ki->site, &r->ft, why, sizeof(why));
	}
	trace_text(&r->ft, text, sizeof(text));
	if (bad) {
		EXPECT_TRUE(false)
			TH_LOG("%s/%s fail-nth=%d: not known issue %s: %s; trace: %.300s",
			       self->name, sc->name, n, ki->id, bad, text);
	} else {
		if (tries < 0)
			snprintf(why, sizeof(why), "its own trace");
		else
			snprintf(why, sizeof(why), "replay %d", tries + 1);
		note("KNOWN ISSUE %s evidence: %s/%s fail-nth=%d, %s: %s, %d frames: %.300s",
		     ki->id, self->name, sc->name, n, why, r->ft.attr,
		     r->ft.n, text);
		known_issue_hit(row, "%s fail-nth=%d: -1/%s, st_size %ld -> %ld, %s at %s < %s",
				sc->name, n, errno_name(ki->err), old_size, size,
				r->ft.attr, ki->site.callee, ki->site.caller);
	}
	free(r);
}

/*
 * What must hold whatever fault was injected: the write returns the
 * full count, a short count or an error; never more than asked nor more
 * than the readable prefix; i_size covers exactly what was returned;
 * the returned bytes are on file.  An outcome that can be a row of
 * known_issues[] is not failed here: its row number is returned and
 * *@size holds st_size, for confirm_known_issue().
 */
static int check_invariants(struct __test_metadata *_metadata,
			    struct scratch_fs *self, const struct where *w,
			    struct step *st, long *size)
{
	struct model *m = &st->m;
	long limit = m->fault - m->pos, ret = st->ret, exp_size;
	int err = st->err, row = -1;
	unsigned char *buf;
	struct stat sb;
	char what[64];
	long off;

	snprintf(what, sizeof(what), "st_size (write returned %ld, errno %d)",
		 ret, ret < 0 ? err : 0);
	if (ret < 0) {
		EXPECT_TRUE(err == ENOMEM || err == EFAULT || err == ENOSPC ||
			    err == EINTR)
			TH_LOG("%s/%s %s: unexpected errno %d (%s)",
			       w->variant, w->row, w->stage, err,
			       strerror(err));
		ret = 0;
	}
	EXPECT_GE(limit, ret)
		TH_LOG("%s/%s %s: returned %ld, more than the %ld readable bytes",
		       w->variant, w->row, w->stage, ret, limit);
	ASSERT_EQ(0, fstat(st->fd, &sb));
	*size = sb.st_size;
	exp_size = m->pos + ret > m->old_size ? m->pos + ret : m->old_size;
	if (sb.st_size != exp_size)
		row = known_issue_find(self, st, sb.st_size);
	if (row < 0)
		check_eq(_metadata, w, what, exp_size, sb.st_size);
	buf = malloc(ret + 1);
	ASSERT_NE(NULL, buf);
	check_eq(_metadata, w, "bytes read back at pos", ret,
		 pread(st->fd, buf, ret, m->pos));
	for (off = 0; off < ret; off++) {
		if (buf[off] == pattern(m->pos + off, 2))
			continue;
		EXPECT_EQ(pattern(m->pos + off, 2), buf[off])
			TH_LOG("%s/%s %s: returned prefix byte at offset %ld differs",
			       w->variant, w->row, w->stage, m->pos + off);
		break;
	}
	free(buf);
	ASSERT_EQ(0, fsync(st->fd));
	return row;
}

static void sweep_row(struct __test_metadata *_metadata,
		      struct scratch_fs *self,
		      const struct scenario *sc, int nth_fd)
{
	struct where w = { self->name, sc->name, "fail-nth", false };
	int n, pass, row, points = 0, hits = 0, prev = _metadata->exit_code;
	struct step st = { .injected = true };
	struct fault_trace *own = calloc(1, sizeof(*own));
	/* Each step's injected fault is logged with its call trace. */
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	char stage[48];
	long size;

	ASSERT_NE(NULL, own);
	if (kfd >= 0)
		fault_verbose("2");
	_metadata->exit_code = KSFT_PASS;
	/* one failing step per row is enough to read */
	for (pass = 1, n = 1; pass <= FAIL_NTH_PASSES &&
	     _metadata->exit_code != KSFT_FAIL; n++) {
		if (!st.injected || n > FAIL_NTH_LIMIT) {
			EXPECT_FALSE(st.injected)
				TH_LOG("%s/%s: fail-nth sweep did not converge in %d steps",
				       w.variant, sc->name, FAIL_NTH_LIMIT);
			/* the next pass, from n = 1 */
			pass++;
			n = 0;
			st.injected = true;
			continue;
		}
		if (kfd >= 0)
			lseek(kfd, 0, SEEK_END);
		sweep_write(_metadata, self, sc, nth_fd, n, &st);
		if (kfd >= 0)
			read_fault_trace(kfd, own);
		snprintf(stage, sizeof(stage), "fail-nth=%d (pass %d)", n, pass);
		w.stage = stage;
		row = check_invariants(_metadata, self, &w, &st, &size);
		sweep_step_done(_metadata, self, &st);
		check_eq(_metadata, &w, "delayed_allocation_blocks after unlink", 0,
			 read_dab(self));
		points += st.injected;
		if (row >= 0) {
			hits++;
			/* every such step: its own trace, not the first's */
			confirm_known_issue(_metadata, self, sc, nth_fd, n, row,
					    st.m.old_size, size,
					    kfd >= 0 ? own : NULL);
		}
	}
	if (kfd >= 0) {
		fault_verbose("0");
		close(kfd);
	}
	free(own);
	remount_checked(_metadata, self, sc->name);
	TH_LOG("%s/%s: %d fault points exercised in %d passes, %d known-issue candidate steps%s",
	       w.variant, sc->name, points, FAIL_NTH_PASSES, hits,
	       _metadata->exit_code == KSFT_FAIL ?
	       " (stopped at the first failure)" : "");
	if (prev == KSFT_FAIL)
		_metadata->exit_code = KSFT_FAIL;
}

TEST_F_TIMEOUT(ext4_short_write, fail_nth, 1200)
{
	struct scratch_fs *fs = &self->fs;
	unsigned int i;
	int nth_fd;

	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	if (fault_setup()) {
		fault_restore();
		close(nth_fd);
		SKIP(return, "no failslab, fail_page_alloc and fail_usercopy in /sys/kernel/debug");
	}
	for (i = 0; i < NR_SCENARIOS; i++) {
		if (scenarios[i].kind == F_ENOSPC)
			continue;
		sweep_row(_metadata, fs, &scenarios[i], nth_fd);
	}
	fault_restore();
	close(nth_fd);
	known_issue_totals(fs, KI_ERROR_AFTER_SIZE, "fail-nth steps");
}

/* ---- run configuration, before the harness takes argv ---- */

/* kstrtobool()'s "true" for a boot parameter's value. */
static bool boot_true(const char *v)
{
	return v[0] == '1' || v[0] == 'y' || v[0] == 'Y' ||
	       ((v[0] == 'o' || v[0] == 'O') && (v[1] == 'n' || v[1] == 'N'));
}

/* True if /proc/kallsyms lists the function @name. */
static bool kernel_has_symbol(const char *name)
{
	char line[256], *sym;
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		sym = strrchr(line, ' ');
		if (sym && !strcmp(sym + 1, name))
			found = true;
		else if (sym && !strncmp(sym + 1, name, strlen(name)))
			found = sym[1 + strlen(name)] == '\n';
	}
	fclose(f);
	return found;
}

/*
 * Is every freed page filled with PAGE_POISON?  Needs "page_poison=" true
 * on the command line (the last one counts, as for early_param) and a
 * kernel built with CONFIG_PAGE_POISONING, seen as the function
 * __kernel_poison_pages in /proc/kallsyms; without it the parameter is
 * ignored.
 */
static void detect_page_poison(void)
{
	char cmdline[4096], *p, *val = NULL;
	const char *why;

	run_cfg.page_poison = false;
	if (read_str("/proc/cmdline", cmdline, sizeof(cmdline))) {
		why = "cannot read /proc/cmdline";
	} else {
		for (p = cmdline; (p = strstr(p, "page_poison=")); p++)
			if (p == cmdline || p[-1] == ' ')
				val = p + strlen("page_poison=");
		if (!val || !boot_true(val))
			why = "no page_poison=1 on the kernel command line";
		else if (!kernel_has_symbol("__kernel_poison_pages"))
			why = "page_poison=1 ignored: no __kernel_poison_pages in /proc/kallsyms";
		else
			why = NULL;
	}
	if (!why) {
		run_cfg.page_poison = true;
		snprintf(run_cfg.poison_why, sizeof(run_cfg.poison_why),
			 "page_poison=1 with CONFIG_PAGE_POISONING, freed pages are PAGE_POISON");
		return;
	}
	snprintf(run_cfg.poison_why, sizeof(run_cfg.poison_why),
		 "stale-data detection is best-effort (%s): freed pages poisoned from user space",
		 why);
}

/*
 * Take --known=report|fail out of argv (EXT4_BWT_KNOWN gives the default,
 * for run_tests, which passes no arguments).  Returns -1 on a bad value.
 */
static int parse_known(int *argc, char **argv)
{
	const char *v = getenv("EXT4_BWT_KNOWN");
	int i, j;

	for (i = 1; i < *argc; i++) {
		if (strncmp(argv[i], "--known=", 8))
			continue;
		v = argv[i] + 8;
		for (j = i; j < *argc; j++)
			argv[j] = argv[j + 1];
		(*argc)--;
		i--;
	}
	if (!v || !*v || !strcmp(v, "report"))
		run_cfg.strict = false;
	else if (!strcmp(v, "fail"))
		run_cfg.strict = true;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int a = 0, b = 0, c = 0;
	struct utsname u;

	if (parse_known(&argc, argv)) {
		fprintf(stderr, "%s: --known= (or EXT4_BWT_KNOWN) takes report or fail\n",
			argv[0]);
		return KSFT_FAIL;
	}
	if (!uname(&u)) {
		snprintf(run_cfg.release, sizeof(run_cfg.release), "%s",
			 u.release);
		if (sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2)
			a = 0;
	}
	run_cfg.kver = KERNEL_VERSION(a, b, c);
	detect_page_poison();
	return test_harness_run(argc, argv);
}
