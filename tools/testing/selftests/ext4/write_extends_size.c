// SPDX-License-Identifier: GPL-2.0
/*
 * A write at pos > i_size that fails must leave i_size alone.
 *
 * efault: the first source byte faults.  From 6.15 (665575cff098
 * "filemap: move prefaulting out of hot write path") generic_perform_write()
 * calls ->write_begin() before faulting the source in; ext4's buffer_head
 * write_end() takes the rejected copy of 0 bytes and still moves i_size
 * to pos, and the write returns -EFAULT (efault-extends-size).
 *
 * fail_nth: the first folio's copy comes up short (the source ends in it)
 * and is rejected, i_size moves to pos + 0, and the retry's
 * ->write_begin() fails: -ENOMEM with i_size == pos, through ext4_write_end()
 * without delalloc (failed-write-extends-size) and through
 * iomap_write_iter() (iomap-failed-write-extends-size).
 */
#include "repro.h"

static const struct fs_kind ext4_4k = EXT4("-b 4096", "");
static const struct fs_kind ext4_4k_nodelalloc = EXT4("-b 4096", "nodelalloc");
static const struct fs_kind ext4_1k_iomap = EXT4("-b 1024", "buffered_iomap");

/* 1000 bytes on file, then 4096 bytes at 8192 whose first one faults. */
static const struct short_write efault_write = {
	.name = "efault", .kind = SW_PROT_NONE, .old = 1000, .pos = 8192,
	.len = 4096,
};

static void efault(struct scratch *s, struct result *r)
{
	struct sw_outcome o;

	if (!sw_run(s, &efault_write, &o, r))
		sw_judge(s, &efault_write, &o, r);
}

/*
 * 1000 bytes on file; 4096 bytes at 4096 of which 1224 can be read: the
 * copy into the new folio at 4096 comes up short and is rejected, which
 * on the iomap path also drops that folio (iomap_write_failed()), so the
 * retry allocates it again.
 */
#define OLD	1000L
#define POS	4096L
#define LEN	4096L
#define COPY	1224L

static void fail_nth(struct scratch *s, struct result *r)
{
	const char *id = scratch_iomap(s) ? "iomap-failed-write-extends-size" :
					    "failed-write-extends-size";
	const char *callee = scratch_iomap(s) ? "iomap_write_begin" :
						"ext4_write_begin";
	const char *caller = scratch_iomap(s) ? "iomap_file_buffered_write" :
						"generic_perform_write";
	int fd, err, nr_short = 0, nr_err = 0, nr_issue = 0;
	struct sweep sw;
	struct stat st;
	struct ubuf u;
	long ret;

	if (sweep_begin(&sw, r))
		return;
	if (ubuf_make(&u, COPY, POS)) {
		fail(r, "mmap: %s", strerror(errno));
		goto out;
	}
	while (sweep_next(&sw, r)) {
		fd = scratch_open(s, "file", O_CREAT | O_TRUNC);
		if (fd < 0 || pwrite(fd, u.p, OLD, 0) != OLD || fsync(fd)) {
			fail(r, "n=%d: preparing the file: %s", sw.n,
			     strerror(errno));
			break;
		}
		sweep_arm(&sw);
		ret = pwrite(fd, u.p, LEN, POS);
		err = errno;
		sweep_disarm(&sw);
		fstat(fd, &st);
		close(fd);
		nr_short += ret > 0;
		nr_err += ret == -1 && st.st_size == OLD;
		if (ret == -1 && err == ENOMEM && st.st_size == POS &&
		    trace_shows(sw.log, callee, caller) && ++nr_issue)
			known_issue(r, id,
				    "fail-nth=%d: pwrite(%ld bytes at %ld, %ld readable) = -1/ENOMEM, st_size %ld -> %lld, fault in %s < %s",
				    sw.n, LEN, POS, COPY, OLD, (long long)st.st_size,
				    callee, caller);
		else if (!(ret == -1 && st.st_size == OLD) &&
			 !(ret > 0 && ret <= COPY && st.st_size == POS + ret))
			fail(r,
			     "fail-nth=%d: pwrite(%ld bytes at %ld, %ld readable): expected %ld or an error with st_size %ld, seen %ld/%s with st_size %lld%s",
			     sw.n, LEN, POS, COPY, COPY, OLD, ret,
			     err_name(ret, err), (long long)st.st_size,
			     ret < 0 && st.st_size == POS ?
			     " (fault site not the known issue's)" : "");
	}
	/* What the steps did, so that a pass says why the issue was not met. */
	ksft_print_msg("%s: %d steps: %d short, %d failed at st_size %ld, %d %s\n",
		       __func__, sw.steps, nr_short, nr_err, OLD, nr_issue, id);
	ubuf_free(&u);
out:
	sweep_end(&sw, r);
}

static const struct repro_case cases[] = {
	{ "efault.ext4_4k", &ext4_4k, efault },
	{ "efault.ext4_4k_nodelalloc", &ext4_4k_nodelalloc, efault },
	{ "efault.ext4_1k_iomap", &ext4_1k_iomap, efault },
	{ "fail_nth.ext4_4k_nodelalloc", &ext4_4k_nodelalloc, fail_nth },
	{ "fail_nth.ext4_1k_iomap", &ext4_1k_iomap, fail_nth },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "write_extends_size", cases, ARRAY_SIZE(cases));
}
