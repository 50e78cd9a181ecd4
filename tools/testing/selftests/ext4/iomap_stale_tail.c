// SPDX-License-Identifier: GPL-2.0
/*
 * iomap-stale-tail: a short copy into a hole leaves stale page memory.
 *
 * A file truncated to 1 MiB (a hole); pwrite() of 3000 bytes at 64 KiB +
 * 300 from a buffer of which only the first 1000 bytes can be read
 * returns 1000.  [64 KiB + 1300, 64 KiB + 3300) must then read as zeros.
 * On the fs/iomap buffered write path it reads as whatever the newly
 * allocated folio held: __iomap_write_begin() leaves [from, to) of the
 * blocks it marks uptodate to the copy, and __iomap_write_end() takes
 * the short copy as is.  The stale bytes are in the page cache, and the
 * rest of the block holding 64 KiB + 1300 goes to disk.  It shows on XFS
 * as on ext4 with buffered_iomap, not on ext4's buffer_head path.
 *
 * A freed page holds PAGE_POISON (0xaa) only with CONFIG_PAGE_POISONING
 * and page_poison=1; elsewhere the stale bytes may happen to be zeros,
 * and a run that sees none is inconclusive: it is reported as a skip
 * saying so, not as a pass.
 */
#include "repro.h"

static const struct fs_kind xfs_4k = XFS("-b size=4096");
static const struct fs_kind xfs_1k = XFS("-b size=1024");
static const struct fs_kind ext4_1k = EXT4("-b 1024", "");
static const struct fs_kind ext4_1k_iomap = EXT4("-b 1024", "buffered_iomap");

static const struct short_write hole_write = {
	.name = "hole", .kind = SW_PROT_NONE, .size = MiB,
	.pos = 64 * KIB + 300, .readable = 1000, .len = 3000,
};

static void short_copy_into_hole(struct scratch *s, struct result *r)
{
	struct sw_outcome o;

	if (sw_run(s, &hole_write, &o, r))
		return;
	sw_judge(s, &hole_write, &o, r);
	if (r->code == KSFT_PASS && !page_poison_on())
		skip(r,
		     "inconclusive: no stale bytes seen, but without page_poison=1 (and CONFIG_PAGE_POISONING) freed pages may hold zeros");
	else if (r->code == KSFT_XFAIL && !page_poison_on())
		strncat(r->msg, " (without page_poison=1: stale bytes of any value)",
			sizeof(r->msg) - strlen(r->msg) - 1);
}

static const struct repro_case cases[] = {
	{ "hole.xfs_4k", &xfs_4k, short_copy_into_hole },
	{ "hole.xfs_1k", &xfs_1k, short_copy_into_hole },
	{ "hole.ext4_1k", &ext4_1k, short_copy_into_hole },
	{ "hole.ext4_1k_iomap", &ext4_1k_iomap, short_copy_into_hole },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "iomap_stale_tail", cases, ARRAY_SIZE(cases));
}
