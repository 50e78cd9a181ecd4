// SPDX-License-Identifier: GPL-2.0
/*
 * XFS as the reference for ext4's iomap buffered write path.
 *
 * The short writes of buffered_write_test.c, and the findings of this
 * directory, run on ext4 with the buffer_head path, ext4 with
 * buffered_iomap, and XFS (the file system fs/iomap's buffered write
 * path was built for) with 4k and 1k blocks.  Only what every file
 * system must do is checked: the return value, st_size, the data
 * through the page cache and again after fsync and a remount, and a
 * clean e2fsck -fn / xfs_repair -n.  Each file system is one test;
 * then one table shows the outcomes side by side and whether
 * ext4-iomap's outcome is the one XFS 1k shows (generic iomap
 * behaviour) or ext4's own.
 *
 * A cell is "ret/st_size/data": data "ok", or "N(M) xVV", N bytes wrong
 * in the page cache and M after the remount, all of value VV.
 */
#include "repro.h"

/* Positions as buffered_write_test.c's scenarios on 1k blocks. */
static const struct short_write rows[] = {
	{ "append_fault_mid_block", SW_PROT_NONE,
	  .old = 1324, .pos = 1324, .readable = 1224, .len = 2772 },
	{ "append_fault_block_boundary", SW_PROT_NONE,
	  .old = 1324, .pos = 1324, .readable = 724, .len = 2772 },
	{ "append_fault_first_byte", SW_PROT_NONE,
	  .old = 1324, .pos = 1324, .readable = 0, .len = 2772 },
	{ "append_fault_first_byte_aligned", SW_PROT_NONE,
	  .old = 2048, .pos = 2048, .readable = 0, .len = 2048 },
	{ "append_pwritev_bad_iov", SW_BAD_IOV,
	  .old = 1324, .pos = 1324, .readable = 724, .len = 2772 },
	{ "append_rlimit_fsize", SW_FSIZE,
	  .old = 1324, .pos = 1324, .readable = 1224, .len = 2772 },
	{ "hole_in_size_mid_block", SW_PROT_NONE,
	  .old = 1024, .size = 16384, .pos = 4196, .readable = 1224,
	  .len = 3996 },
	{ "hole_in_size_block_boundary", SW_PROT_NONE,
	  .old = 1024, .size = 16384, .pos = 4196, .readable = 1948,
	  .len = 3996 },
	{ "overwrite_uncached_mid_block", SW_PROT_NONE,
	  .old = 8192, .pos = 1124, .readable = 2248, .len = 2972,
	  .uncached = true },
	/* efault-extends-size */
	{ "efault_past_eof", SW_PROT_NONE,
	  .old = 1000, .pos = 8192, .readable = 0, .len = 4096 },
	/* iomap-stale-tail */
	{ "hole_64k_short_copy", SW_PROT_NONE,
	  .size = MiB, .pos = 64 * KIB + 300, .readable = 1000, .len = 3000 },
};

#define NR_ROWS		ARRAY_SIZE(rows)
#define ENOSPC_ROW	NR_ROWS		/* the last row: iomap-enospc-whole */

static const struct {
	const char *name;
	struct fs_kind fs;
} columns[] = {
	{ "ext4_bh_1k", EXT4("-b 1024 -m 0", "") },
	{ "ext4_iomap_1k", EXT4("-b 1024 -m 0", "buffered_iomap") },
	{ "xfs_4k", XFS("-b size=4096") },
	{ "xfs_1k", XFS("-b size=1024") },
};

#define NR_COLUMNS	ARRAY_SIZE(columns)
#define IOMAP_COLUMN	1
#define XFS_1K_COLUMN	3

static char cell[NR_ROWS + 1][NR_COLUMNS][112];
static char row_ids[NR_ROWS + 1][160];

/* The id of a known-issue result, "known-issue:<id> ...". */
static void known_id(const struct result *rr, char *id, size_t len)
{
	snprintf(id, len, "%.*s", (int)strcspn(rr->msg + 12, " "),
		 rr->msg + 12);
}

/*
 * Fold one row's result @rr into the column's @r: the first failure
 * wins; known issues are collected as "known-issue:<id>,<id> ...",
 * with the evidence of the first row of each.
 */
static void merge(struct result *r, const struct result *rr, int row,
		  const char *column, char *ids, char *evidence)
{
	char id[64];

	if (rr->code == KSFT_FAIL) {
		fail(r, "%s", rr->msg);
		return;
	}
	if (rr->code != KSFT_XFAIL)
		return;
	known_id(rr, id, sizeof(id));
	snprintf(row_ids[row] + strlen(row_ids[row]),
		 sizeof(row_ids[row]) - strlen(row_ids[row]), " %s:%s",
		 column, id);
	if (strstr(ids, id))
		return;		/* the evidence of its first row is enough */
	sprintf(ids + strlen(ids), "%s%s", *ids ? "," : "", id);
	snprintf(evidence + strlen(evidence), 300 - strlen(evidence), "%s%s",
		 *evidence ? "; " : "", rr->msg + 12 + strlen(id) + 1);
}

static void run_column(int c, struct result *r)
{
	char ids[160] = "", evidence[300] = "";
	struct sw_outcome o;
	struct result rr;
	struct scratch s;
	unsigned int i;

	if (scratch_create(&s, &columns[c].fs, r)) {
		for (i = 0; i <= NR_ROWS; i++)
			snprintf(cell[i][c], sizeof(cell[i][c]), "skip");
		return;
	}
	for (i = 0; i <= NR_ROWS; i++) {
		memset(&rr, 0, sizeof(rr));
		if (i == ENOSPC_ROW) {
			sw_enospc(&s, &rr, cell[i][c], sizeof(cell[i][c]));
		} else if (!sw_run(&s, &rows[i], &o, &rr)) {
			sw_cell(&o, cell[i][c], sizeof(cell[i][c]));
			sw_judge(&s, &rows[i], &o, &rr);
		}
		merge(r, &rr, i, columns[c].name, ids, evidence);
	}
	scratch_destroy(&s, r);
	if (*ids && r->code != KSFT_FAIL)
		known_issue(r, ids, "%s", evidence);
}

/* Is ext4-iomap's outcome XFS 1k's (fs/iomap's), or ext4's own? */
static const char *shared(int row)
{
	const char *iomap = cell[row][IOMAP_COLUMN];

	if (!strcmp(iomap, "skip") || !strcmp(cell[row][XFS_1K_COLUMN], "skip"))
		return "-";
	return strcmp(iomap, cell[row][XFS_1K_COLUMN]) ? "ext4's own" :
							   "as xfs (iomap)";
}

static void print_table(void)
{
	unsigned int i, c;

	ksft_print_msg("short writes side by side: ret/st_size/data %s%s\n",
		       "(wrong bytes in cache(after remount) xVALUE)",
		       page_poison_on() ? "" :
		       "; no page_poison=1: stale bytes may read as zeros");
	ksft_print_msg("%-32s", "scenario");
	for (c = 0; c < NR_COLUMNS; c++)
		printf(" %-22s", columns[c].name);
	printf(" %s\n", "ext4-iomap vs xfs-1k; known issues");
	for (i = 0; i <= NR_ROWS; i++) {
		ksft_print_msg("%-32s", i == ENOSPC_ROW ? "enospc_write_past_free" :
			       rows[i].name);
		for (c = 0; c < NR_COLUMNS; c++)
			printf(" %-22s", cell[i][c]);
		printf(" %s;%s\n", shared(i), row_ids[i]);
	}
}

int main(int argc, char **argv)
{
	const char *known = getenv("EXT4_BWT_KNOWN");
	struct result r[NR_COLUMNS];
	char name[64];
	unsigned int c;

	if (argc > 1 && !strncmp(argv[1], "--known=", 8))
		known = argv[1] + 8;
	repro_strict = known && !strcmp(known, "fail");
	ksft_print_header();
	ksft_set_plan(NR_COLUMNS);
	for (c = 0; c < NR_COLUMNS; c++) {
		memset(&r[c], 0, sizeof(r[c]));
		run_column(c, &r[c]);
	}
	print_table();
	for (c = 0; c < NR_COLUMNS; c++) {
		snprintf(name, sizeof(name), "xfs_reference.%s", columns[c].name);
		ksft_test_result_code(r[c].code, name, r[c].msg[0] ? "%s" : NULL,
				      r[c].msg);
	}
	ksft_finished();
}
