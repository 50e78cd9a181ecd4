// SPDX-License-Identifier: GPL-2.0
/*
 * iomap-enospc-whole (a behaviour difference, not a bug): on a nearly
 * full file system, a buffered write larger than the free space writes
 * what fits on ext4's buffer_head path (ext4_da_write_begin() reserves
 * block by block; the write returns the bytes that got a block), but
 * fails whole with -ENOSPC on ext4's iomap delalloc path, which reserves
 * the whole mapping in ->iomap_begin() before copying anything, as XFS
 * does.
 */
#include "repro.h"

static const struct fs_kind ext4_4k = EXT4("-b 4096 -m 0", "");
static const struct fs_kind ext4_4k_iomap = EXT4("-b 4096 -m 0", "buffered_iomap");
static const struct fs_kind xfs_4k = XFS("-b size=4096");

static void write_past_free(struct scratch *s, struct result *r)
{
	char cell[96];

	sw_enospc(s, r, cell, sizeof(cell));
}

static const struct repro_case cases[] = {
	{ "write_past_free.ext4_4k", &ext4_4k, write_past_free },
	{ "write_past_free.ext4_4k_iomap", &ext4_4k_iomap, write_past_free },
	{ "write_past_free.xfs_4k", &xfs_4k, write_past_free },
};

int main(int argc, char **argv)
{
	return repro_main(argc, argv, "enospc_whole", cases, ARRAY_SIZE(cases));
}
