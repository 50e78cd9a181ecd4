// SPDX-License-Identifier: GPL-2.0
/*
 * iomap-writeback-enomem-loss: delayed-allocation data gets its blocks
 * when it is written back.  An -ENOMEM there is transient: on the
 * buffer_head path mpage_map_and_submit_extent() leaves the folios dirty
 * and returns it ("Let the upper layers retry transient errors"), and
 * do_writepages() retries data-integrity writeback after -ENOMEM, so an
 * fsync() that met one still returns 0 with the data on disk.
 *
 * With buffered_iomap, ext4_iomap_map_writeback_range() takes any error
 * of the allocation as final: it logs "Delayed block allocation failed
 * ... with error 12" and "This should not happen!! Data will be lost",
 * the folio's delayed range is punched and the folio is ended clean with
 * the error recorded in the mapping.  fsync() returns ENOMEM, the next
 * fsync() returns 0 with nothing to write, and the data reads back as
 * zeros from a hole once the page cache no longer holds it.
 *
 * Each step writes a new file, fails the n-th fault point of its fsync()
 * (fail-nth), and calls fsync() again with nothing injected, which must
 * return 0; then the file is read from the disk and must hold what was
 * written.  dioread_nolock is off so that the buffer_head path allocates
 * written extents and convert-loss (convert_loss.c) stays out of it.
 */
#include "repro.h"

static const struct fs_kind ext4_4k_brd = {
	.type = "ext4", .mkfs = MKFS_EXT4 "-b 4096",
	.opts = "delalloc,nodioread_nolock", .brd = true,
};

static const struct fs_kind ext4_4k_iomap_brd = {
	.type = "ext4", .mkfs = MKFS_EXT4 "-b 4096",
	.opts = "delalloc,nodioread_nolock,buffered_iomap", .brd = true,
};

static const struct fs_kind ext4_1k_iomap_brd = {
	.type = "ext4", .mkfs = MKFS_EXT4 "-b 1024",
	.opts = "delalloc,nodioread_nolock,buffered_iomap", .brd = true,
};

#define LEN	(16 * KIB)

/*
 * How many bytes of [0, LEN) of @fd read back from the disk as something
 * else than written; *@lost gets how many of those read as zeros from a
 * hole or an unwritten extent, and @map describes the extents.
 */
static long check_disk(int fd, long *lost, char *map, size_t len)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[8];
	} q = { .fm = { .fm_length = LEN, .fm_extent_count = 8 } };
	unsigned char *buf = malloc(LEN);
	long off, wrong = 0;
	unsigned int i, used = 0;
	bool written;

	*lost = 0;
	map[0] = '\0';
	if (!buf || ioctl(fd, FS_IOC_FIEMAP, &q) ||
	    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) ||
	    pread(fd, buf, LEN, 0) != LEN) {
		free(buf);
		return LEN;
	}
	for (i = 0; i < q.fm.fm_mapped_extents && used < len; i++)
		used += snprintf(map + used, len - used, " [%llu, +%llu)%s",
				 (unsigned long long)q.fe[i].fe_logical,
				 (unsigned long long)q.fe[i].fe_length,
				 q.fe[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN ?
				 " unwritten" : "");
	for (off = 0; off < LEN; off++) {
		if (buf[off] == pattern(off))
			continue;
		wrong++;
		written = false;
		for (i = 0; i < q.fm.fm_mapped_extents; i++)
			written |= !(q.fe[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) &&
				   off >= (long)q.fe[i].fe_logical &&
				   off < (long)(q.fe[i].fe_logical + q.fe[i].fe_length);
		*lost += !buf[off] && !written;
	}
	free(buf);
	return wrong;
}

/* Does a line of @log hold @what and end with "with error @err"? */
static bool logged_error(const char *log, const char *what, int err)
{
	const char *at = strstr(log, what);
	size_t len = at ? strcspn(at, "\n") : 0;
	char tail[32];
	int n;

	n = snprintf(tail, sizeof(tail), " with error %d", err);
	return at && len >= (size_t)n && !strncmp(at + len - n, tail, n);
}

/*
 * The signature: the iomap path; the first fsync() failed with ENOMEM
 * after ext4 logged both messages for error 12; the second returned 0;
 * and every wrong byte reads back as zero from a hole or an unwritten
 * extent.
 */
static bool enomem_loss(struct scratch *s, const struct sweep *sw, int ret,
			int err, int ret2, long wrong, long lost)
{
	return scratch_iomap(s) && ret == -1 && err == ENOMEM && !ret2 &&
	       wrong && lost == wrong &&
	       logged_error(sw->log, "Delayed block allocation failed for inode",
			    ENOMEM) &&
	       strstr(sw->log, "This should not happen!! Data will be lost");
}

static void judge(struct scratch *s, const struct sweep *sw, int fd, int ret,
		  int err, struct result *r)
{
	int ret2 = fsync(fd), err2 = errno;
	char map[160];
	long wrong, lost;

	wrong = check_disk(fd, &lost, map, sizeof(map));
	if (enomem_loss(s, sw, ret, err, ret2, wrong, lost))
		known_issue(r, "iomap-writeback-enomem-loss",
			    "fail-nth=%d: fsync() = ENOMEM after \"Data will be lost\" (error 12) in the kernel log, then fsync() = 0; %ld of %ld bytes read back as zeros from a hole or an unwritten extent; extents:%s",
			    sw->n, lost, LEN, map[0] ? map : " none");
	else if (ret2)
		fail(r,
		     "fail-nth=%d: fsync() with nothing injected: expected 0, seen %s (the first: %s)",
		     sw->n, strerror(err2), ret ? strerror(err) : "0");
	else if (wrong)
		fail(r,
		     "fail-nth=%d: after fsync() = %s and fsync() = 0, %ld of %ld bytes at offset 0 read back wrong from disk (%ld zeros outside written extents); extents:%s",
		     sw->n, ret ? strerror(err) : "0", wrong, LEN, lost,
		     map[0] ? map : " none");
}

static void fsync_fail_nth(struct scratch *s, struct result *r)
{
	if (scratch_msg_unlimited(s))
		fail(r, "cannot switch off the rate limit of ext4's messages for %s",
		     s->dev);
	else
		sweep_fsync(s, LEN, judge, r);
}

static const struct repro_case cases[] = {
	{ "fsync_fail_nth.ext4_4k_brd", &ext4_4k_brd, fsync_fail_nth },
	{ "fsync_fail_nth.ext4_4k_iomap_brd", &ext4_4k_iomap_brd, fsync_fail_nth },
	{ "fsync_fail_nth.ext4_1k_iomap_brd", &ext4_1k_iomap_brd, fsync_fail_nth },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "writeback_enomem", cases, ARRAY_SIZE(cases));
}
