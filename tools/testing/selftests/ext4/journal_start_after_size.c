// SPDX-License-Identifier: GPL-2.0
/*
 * journal-start-after-size: ext4_da_do_write_end() (delalloc, with a
 * journal) moves i_size to pos + copied, and only then starts a handle to
 * update i_disksize when the write ends in an allocated block.  When
 * ext4_journal_start() fails there, the write returns its error
 * (-ENOMEM) although the bytes are in the page cache and i_size covers
 * them.  Since 6.6 ("ext4: do not mark inode dirty every time in delalloc
 * append write scenario", 40b14c55e3d0 in the ext4 tree; inferred).
 *
 * The file holds 1300 bytes, fsynced, so its blocks are allocated; each
 * fail-nth step appends 500 bytes, which end in the block holding byte
 * 1300 on 1k and 4k blocks alike.
 */
#include "repro.h"

static const struct fs_kind ext4_4k = EXT4("-b 4096", "");
static const struct fs_kind ext4_1k = EXT4("-b 1024", "");

#define OLD	1300L
#define LEN	500L

static void append_fail_nth(struct scratch *s, struct result *r)
{
	struct sweep sw;
	struct stat st;
	struct ubuf u;
	int fd, err;
	long ret;

	if (sweep_begin(&sw, r))
		return;
	fd = scratch_open(s, "file", O_CREAT);
	if (fd < 0 || ubuf_make(&u, OLD + LEN, 0)) {
		fail(r, "setup: %s", strerror(errno));
		goto out;
	}
	if (pwrite(fd, u.p, OLD, 0) != OLD || fsync(fd))
		fail(r, "preparing the file: %s", strerror(errno));
	while (sweep_next(&sw, r)) {
		if (ftruncate(fd, OLD)) {
			fail(r, "n=%d: ftruncate: %s", sw.n, strerror(errno));
			break;
		}
		sweep_arm(&sw);
		ret = pwrite(fd, u.p + OLD, LEN, OLD);
		err = errno;
		sweep_disarm(&sw);
		fstat(fd, &st);
		if (ret == -1 && err == ENOMEM && st.st_size == OLD + LEN &&
		    trace_shows(sw.log, "jbd2__journal_start", "ext4_da_write_end"))
			known_issue(r, "journal-start-after-size",
				    "fail-nth=%d: pwrite(%ld bytes at %ld) = -1/ENOMEM, st_size %ld -> %lld, fault in jbd2__journal_start < ext4_da_write_end",
				    sw.n, LEN, OLD, OLD, (long long)st.st_size);
		else if (!(ret == LEN && st.st_size == OLD + LEN) &&
			 !(ret == -1 && st.st_size == OLD))
			fail(r,
			     "fail-nth=%d: pwrite(%ld bytes at %ld): expected %ld with st_size %ld, or an error with st_size %ld; seen %ld/%s with st_size %lld",
			     sw.n, LEN, OLD, LEN, OLD + LEN, OLD, ret,
			     err_name(ret, err), (long long)st.st_size);
	}
	ubuf_free(&u);
out:
	if (fd >= 0)
		close(fd);
	sweep_end(&sw, r);
}

static const struct repro_case cases[] = {
	{ "append_fail_nth.ext4_4k", &ext4_4k, append_fail_nth },
	{ "append_fail_nth.ext4_1k", &ext4_1k, append_fail_nth },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "journal_start_after_size", cases, ARRAY_SIZE(cases));
}
