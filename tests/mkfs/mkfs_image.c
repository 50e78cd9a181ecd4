// SPDX-License-Identifier: GPL-2.0
/*
 * Host driver for the in-kernel ext4 formatter: writes an image file with
 * fs/ext4/iomap_write_test_mkfs.c, built against tests/mkfs/shim.
 *
 *   mkfs_image FILE BLOCKSIZE RATIO JOURNAL(0/1) SIZE_BYTES [JOURNAL_BLOCKS]
 *
 * On success it prints the layout as "name value" lines.  It also checks
 * the write contract: contiguous increasing offsets, whole blocks, at most
 * EXT4_IWT_MKFS_CHUNK bytes per call, and every block written once.
 * Exit status: 0 ok, 1 usage or I/O error, 2 contract broken,
 * 3 ext4_iwt_mkfs() failed (prints "error -ERRNO").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "iomap_write_test_mkfs.h"

struct sink {
	FILE *file;
	unsigned int block_size;
	u64 next;
	u64 writes;
	int broken;
};

static int sink_write(void *ctx, u64 offset, const void *buf, size_t len)
{
	struct sink *s = ctx;

	if (offset != s->next || !len || len > EXT4_IWT_MKFS_CHUNK ||
	    len % s->block_size) {
		fprintf(stderr, "bad write: offset %llu len %zu, expected offset %llu\n",
			(unsigned long long)offset, len,
			(unsigned long long)s->next);
		s->broken = 1;
		return -EINVAL;
	}
	if (fwrite(buf, 1, len, s->file) != len)
		return -EIO;
	s->next += len;
	s->writes++;
	return 0;
}

static u64 parse_arg(const char *arg)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 0);

	if (!*arg || *end) {
		fprintf(stderr, "expected a number, saw '%s'\n", arg);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct ext4_iwt_mkfs_params p = { 0 };
	struct ext4_iwt_mkfs_layout l;
	struct sink s = { 0 };
	int ret;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: %s FILE BLOCKSIZE RATIO JOURNAL SIZE_BYTES %s\n",
			argv[0], "[JOURNAL_BLOCKS]");
		return 1;
	}
	p.block_size = parse_arg(argv[2]);
	p.cluster_ratio = parse_arg(argv[3]);
	p.journal = parse_arg(argv[4]);
	p.fs_bytes = parse_arg(argv[5]);
	if (argc == 7)
		p.journal_blocks = parse_arg(argv[6]);

	s.file = fopen(argv[1], "wb");
	if (!s.file) {
		perror(argv[1]);
		return 1;
	}
	s.block_size = p.block_size;
	ret = ext4_iwt_mkfs(&p, sink_write, &s, &l);
	if (fclose(s.file) && !ret) {
		perror(argv[1]);
		return 1;
	}
	if (s.broken)
		return 2;
	if (ret) {
		printf("error %d\n", ret);
		return 3;
	}
	if (s.next != l.blocks * p.block_size) {
		fprintf(stderr, "wrote %llu bytes, filesystem has %llu\n",
			(unsigned long long)s.next,
			(unsigned long long)(l.blocks * p.block_size));
		return 2;
	}
	printf("blocks %llu\nclusters %llu\ngroups %u\nblocks_per_group %u\n",
	       (unsigned long long)l.blocks, (unsigned long long)l.clusters,
	       l.groups, l.blocks_per_group);
	printf("inodes_per_group %u\ninodes %u\nfirst_data_block %u\n",
	       l.inodes_per_group, l.inodes, l.first_data_block);
	printf("gdt_blocks %u\ninode_table_blocks %u\n", l.gdt_blocks,
	       l.inode_table_blocks);
	printf("free_clusters %llu\nfree_blocks %llu\nfree_inodes %u\n",
	       (unsigned long long)l.free_clusters,
	       (unsigned long long)l.free_blocks, l.free_inodes);
	printf("root_block %u\nlpf_block %u\njournal_start %u\njournal_blocks %u\n",
	       l.root_block, l.lpf_block, l.journal_start, l.journal_blocks);
	printf("writes %llu\nbytes %llu\n", (unsigned long long)s.writes,
	       (unsigned long long)s.next);
	return 0;
}
