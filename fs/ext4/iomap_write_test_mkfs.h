/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny in-kernel ext4 formatter used by the iomap write KUnit test.
 *
 * It lays out a plain ext4 filesystem (no flex_bg, no 64bit; optional
 * bigalloc, metadata_csum and jbd2 journal) and hands every block of it, zero
 * blocks included, to a caller-supplied write function in increasing
 * offset order.  It writes ext4's and jbd2's on-disk structures as ext4.h,
 * ext4_extents.h and <linux/jbd2.h> define them, so it builds in the
 * kernel only.
 */
#ifndef _EXT4_IOMAP_WRITE_TEST_MKFS_H
#define _EXT4_IOMAP_WRITE_TEST_MKFS_H

#include <linux/types.h>

/* jbd2 refuses journals shorter than this many blocks. */
#define EXT4_IWT_MKFS_MIN_JOURNAL	1024
/* Largest write handed to the write function, in bytes. */
#define EXT4_IWT_MKFS_CHUNK		(64 * 1024)

/**
 * struct ext4_iwt_mkfs_params - what to make
 * @block_size: block size in bytes: 1024, 2048 or 4096
 * @cluster_ratio: blocks per cluster: 1 (no bigalloc), 4 or 16
 * @journal: create a jbd2 journal in inode 8
 * @journal_blocks: journal length in blocks, 0 for the default
 *	(%EXT4_IWT_MKFS_MIN_JOURNAL); rounded up to a whole cluster and
 *	placed in one group, so it must fit in one group's free space;
 *	ignored without @journal
 * @fs_bytes: filesystem size in bytes; may be smaller than the device.
 *	Rounded down to a whole cluster, and a last group too small to hold
 *	its own metadata is dropped (see &ext4_iwt_mkfs_layout.blocks).
 * @metadata_csum: checksum the metadata (RO_COMPAT_METADATA_CSUM, crc32c):
 *	superblocks, group descriptors, bitmaps, inodes, directory blocks
 *	and the journal superblock (csum v3).  Off by default; the images
 *	made without it do not depend on this field.
 */
struct ext4_iwt_mkfs_params {
	unsigned int block_size;
	unsigned int cluster_ratio;
	bool journal;
	u32 journal_blocks;
	u64 fs_bytes;
	bool metadata_csum;
};

/**
 * struct ext4_iwt_mkfs_layout - what was made
 * @blocks: blocks in the filesystem (s_blocks_count)
 * @clusters: clusters in the filesystem
 * @groups: number of block groups
 * @blocks_per_group: s_blocks_per_group
 * @inodes_per_group: s_inodes_per_group
 * @inodes: s_inodes_count
 * @first_data_block: s_first_data_block
 * @gdt_blocks: group descriptor table blocks (per copy)
 * @inode_table_blocks: inode table blocks per group
 * @free_clusters: free clusters (sum of the group descriptors)
 * @free_blocks: free blocks as stored in the superblock
 *	(@free_clusters times the cluster ratio)
 * @free_inodes: free inodes
 * @root_block: the root directory's only block
 * @lpf_block: the lost+found directory's only block
 * @journal_start: first journal block, 0 without a journal
 * @journal_blocks: journal length in blocks, 0 without a journal
 */
struct ext4_iwt_mkfs_layout {
	u64 blocks;
	u64 clusters;
	u32 groups;
	u32 blocks_per_group;
	u32 inodes_per_group;
	u32 inodes;
	u32 first_data_block;
	u32 gdt_blocks;
	u32 inode_table_blocks;
	u64 free_clusters;
	u64 free_blocks;
	u32 free_inodes;
	u32 root_block;
	u32 lpf_block;
	u32 journal_start;
	u32 journal_blocks;
};

/**
 * typedef ext4_iwt_mkfs_write_t - store part of the new filesystem
 * @ctx: the caller's context, as passed to ext4_iwt_mkfs()
 * @offset: byte offset from the start of the filesystem
 * @buf: data to store
 * @len: bytes in @buf, a whole number of blocks, at most
 *	%EXT4_IWT_MKFS_CHUNK
 *
 * Return: 0 or a negative errno, which ext4_iwt_mkfs() passes on.
 */
typedef int (*ext4_iwt_mkfs_write_t)(void *ctx, u64 offset, const void *buf,
				     size_t len);

int ext4_iwt_mkfs(const struct ext4_iwt_mkfs_params *p,
		  ext4_iwt_mkfs_write_t write, void *ctx,
		  struct ext4_iwt_mkfs_layout *out);

#endif /* _EXT4_IOMAP_WRITE_TEST_MKFS_H */
