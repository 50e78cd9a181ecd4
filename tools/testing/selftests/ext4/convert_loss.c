// SPDX-License-Identifier: GPL-2.0
/*
 * convert-loss: with dioread_nolock, ext4 writes delalloc data into
 * unwritten extents and converts them to written when the I/O completes
 * (ext4_end_io_end() -> ext4_convert_unwritten_io_end_vec()).  When that
 * conversion fails, ext4 logs "potential data loss!" (7.2; 6.12 logs the
 * warning of ext4_convert_unwritten_extents() instead) and goes on: the
 * folio was already cleaned, no error is recorded in the mapping, fsync
 * returns 0, and the data reads back as zeros from the still unwritten
 * extent.
 *
 * The conversion runs at I/O completion.  On brd a bio completes inside
 * submit_bio(), so the last ext4_put_io_end() of ext4_do_writepages() does
 * the conversion in the task that called fsync(), where fail-nth reaches
 * its allocations (ext4_find_extent() and the extent split).
 */
#include "repro.h"

static const struct fs_kind ext4_4k_brd = {
	.type = "ext4", .mkfs = MKFS_EXT4 "-b 4096", .opts = "dioread_nolock",
	.brd = true,
};

#define LEN	(16 * KIB)

/* True if the first extent of @fd is unwritten. */
static bool first_extent_unwritten(int fd)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe;
	} q = { .fm = { .fm_length = ~0ULL, .fm_extent_count = 1 } };

	return !ioctl(fd, FS_IOC_FIEMAP, &q) && q.fm.fm_mapped_extents &&
	       (q.fe.fe_flags & FIEMAP_EXTENT_UNWRITTEN);
}

/* How many of the first LEN bytes of @fd, read from disk, are wrong. */
static long wrong_on_disk(int fd, long *zeros)
{
	unsigned char buf[LEN];
	long off, wrong = 0;

	*zeros = 0;
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);	/* the folios are clean */
	if (pread(fd, buf, LEN, 0) != LEN)
		return LEN;
	for (off = 0; off < LEN; off++) {
		wrong += buf[off] != pattern(off);
		*zeros += !buf[off];
	}
	return wrong;
}

static void judge(struct scratch *s, const struct sweep *sw, int fd, int ret,
		  int err, struct result *r)
{
	bool logged = strstr(sw->log, "potential data loss!") ||
		      strstr(sw->log, "ext4_ext_map_blocks returned");
	long zeros, wrong = ret ? 0 : wrong_on_disk(fd, &zeros);

	(void)s;	/* the file is all this check needs */
	if (wrong && wrong == zeros && logged && first_extent_unwritten(fd))
		known_issue(r, "convert-loss",
			    "fail-nth=%d: fsync() = 0 after \"%s\" in the kernel log; %ld of %ld bytes read back as zeros, the extent is still unwritten",
			    sw->n, strstr(sw->log, "potential data loss!") ?
			    "potential data loss!" :
			    "ext4_ext_map_blocks returned",
			    zeros, LEN);
	else if (wrong)
		fail(r,
		     "fail-nth=%d: fsync() = 0 but %ld of %ld bytes read back wrong (%ld zeros)%s",
		     sw->n, wrong, LEN, zeros,
		     logged ? "" : ", and the kernel logged no conversion failure");
	else if (ret && err != ENOMEM && err != EIO)
		fail(r, "fail-nth=%d: fsync(): expected 0, ENOMEM or EIO, seen %s",
		     sw->n, strerror(err));
}

static void fsync_fail_nth(struct scratch *s, struct result *r)
{
	sweep_fsync(s, LEN, judge, r);
}

static const struct repro_case cases[] = {
	{ "fsync_fail_nth.ext4_4k_brd", &ext4_4k_brd, fsync_fail_nth },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "convert_loss", cases, ARRAY_SIZE(cases));
}
