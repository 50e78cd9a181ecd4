// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny ext4 formatter for the iomap write KUnit test.
 *
 * Every group is laid out the same way (no flex_bg): superblock and group
 * descriptor table when the group holds a copy (sparse_super), block
 * bitmap, inode bitmap, inode table, then data from the next cluster on.
 * Group 0's data starts with the root directory and lost+found, one block
 * (one cluster allocated) each; the journal, if any, takes the first run of
 * free blocks long enough for it.  Free counts come from the very bitmaps
 * that get written, so the two cannot disagree.
 *
 * The on-disk structures and constants are ext4's and jbd2's own; only the
 * fields named here are set, the rest stay zero.  With metadata_csum each
 * checksum is computed as ext4 and jbd2 verify it, from the seed
 * crc32c(~0, s_uuid): the same bytes in, the field itself read as zero.
 */

#include <linux/blk_types.h>
#include <linux/errno.h>
#include <linux/jbd2.h>
#include <linux/kernel.h>
#include <linux/magic.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/string.h>

#include "ext4.h"
#include "ext4_extents.h"
#include "iomap_write_test_mkfs.h"
#include "iomap_write_test_compat.h"

/* Inode size: room for the extra fields after the 128-byte core. */
#define IWT_INODE_SIZE		256
/* New inodes reserve room for every field of struct ext4_inode. */
#define IWT_EXTRA_ISIZE		(sizeof(struct ext4_inode) - \
				 EXT4_GOOD_OLD_INODE_SIZE)
/* lost+found takes the first inode that is not reserved. */
#define IWT_LPF_INO		EXT4_GOOD_OLD_FIRST_INO
#define IWT_BYTES_PER_INODE	16384
#define IWT_MIN_INODES		16	/* per group */
/* Extents that fit in i_block after the header: a depth 0 tree. */
#define IWT_ROOT_EXTENTS	((sizeof_field(struct ext4_inode, i_block) - \
				  sizeof(struct ext4_extent_header)) / \
				 sizeof(struct ext4_extent))
#define IWT_MAX_JOURNAL		(IWT_ROOT_EXTENTS * EXT_INIT_MAX_LEN)
/* A fixed time (2024-01-01 00:00:00 UTC) keeps the images reproducible. */
#define IWT_TIME		1704067200
/*
 * s_jnl_backup_type saying that s_jnl_blocks holds a copy of the journal
 * inode's i_block and size: EXT3_JNL_BACKUP_BLOCKS in
 * Documentation/filesystems/ext4/super.rst, which ext4.h does not name
 * (the kernel never reads the backup).
 */
#define IWT_JNL_BACKUP_BLOCKS	1

/* The primary superblock's 1024 bytes at byte 1024 fill one 1k block. */
static_assert(sizeof(struct ext4_super_block) == EXT4_MIN_BLOCK_SIZE);
/* s_jnl_blocks: the journal inode's i_block, then i_size_high, i_size_lo. */
static_assert(sizeof_field(struct ext4_super_block, s_jnl_blocks) ==
	      sizeof_field(struct ext4_inode, i_block) + 2 * sizeof(__le32));
static_assert(sizeof_field(struct ext4_super_block, s_hash_seed) == 16);
/* Without 64bit a descriptor is the fields before the _hi ones. */
static_assert(offsetof(struct ext4_group_desc, bg_block_bitmap_hi) ==
	      EXT4_MIN_DESC_SIZE);
static_assert(sizeof(struct ext4_inode) <= IWT_INODE_SIZE);
static_assert(IWT_ROOT_EXTENTS == 4);
static_assert(sizeof(journal_superblock_t) == EXT4_MIN_BLOCK_SIZE);

/**
 * struct iwt_run - blocks mapped by one inode
 * @start: first block, at the start of a cluster
 * @len: number of blocks
 */
struct iwt_run {
	u32 start;
	u32 len;
};

/**
 * struct iwt_group - where one block group keeps its metadata
 * @first: first block of the group
 * @end: one past its last block
 * @sb: block of its superblock copy, if @has_super
 * @block_bitmap: block of its block bitmap
 * @inode_bitmap: block of its inode bitmap
 * @inode_table: first block of its inode table
 * @data: first block of the first cluster after its metadata
 * @free_clusters: free clusters, counted in its block bitmap
 * @free_inodes: free inodes
 * @used_dirs: directories among its inodes
 * @block_bitmap_csum: crc32c of its block bitmap, with metadata_csum
 * @inode_bitmap_csum: crc32c of its inode bitmap, with metadata_csum
 * @has_super: whether it holds a superblock and descriptor table copy
 */
struct iwt_group {
	u32 first;
	u32 end;
	u32 sb;
	u32 block_bitmap;
	u32 inode_bitmap;
	u32 inode_table;
	u32 data;
	u32 free_clusters;
	u32 free_inodes;
	u32 used_dirs;
	u32 block_bitmap_csum;
	u32 inode_bitmap_csum;
	bool has_super;
};

/**
 * struct iwt_fs - the filesystem being made
 * @bs: block size in bytes
 * @ratio: blocks per cluster
 * @blocks: blocks in the filesystem
 * @first_data_block: s_first_data_block
 * @bpg: blocks per group
 * @groups: number of groups
 * @ipg: inodes per group
 * @gdt_blocks: blocks of one copy of the group descriptor table
 * @itable_blocks: inode table blocks per group
 * @free_clusters: free clusters of all groups
 * @free_inodes: free inodes of all groups
 * @grp: the groups, @groups of them
 * @root: the root directory's block
 * @lpf: lost+found's block
 * @journal: the journal's blocks, none without a journal
 * @uuid: the filesystem's (and the journal's) UUID
 * @hash_seed: the directory hash seed
 * @csum: whether the metadata is checksummed (metadata_csum)
 * @csum_seed: with @csum, the seed of every checksum: crc32c(~0, @uuid)
 */
struct iwt_fs {
	unsigned int bs;
	unsigned int ratio;
	u32 blocks;
	u32 first_data_block;
	u32 bpg;
	u32 groups;
	u32 ipg;
	u32 gdt_blocks;
	u32 itable_blocks;
	u64 free_clusters;
	u32 free_inodes;
	struct iwt_group *grp;
	struct iwt_run root;
	struct iwt_run lpf;
	struct iwt_run journal;
	u8 uuid[16];
	u8 hash_seed[16];
	bool csum;
	u32 csum_seed;
};

/**
 * iwt_is_power_of() - whether a number is a power of another
 * @n: the number
 * @base: the base
 *
 * Return: true if @n is @base to some power, 1 included.
 */
static bool iwt_is_power_of(u32 n, u32 base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

/**
 * iwt_group_has_super() - whether a group holds a superblock copy
 * @g: group number
 *
 * With sparse_super, copies live in groups 0, 1 and powers of 3, 5 and 7.
 *
 * Return: true if group @g holds a superblock and descriptor table.
 */
static bool iwt_group_has_super(u32 g)
{
	return g <= 1 || iwt_is_power_of(g, 3) || iwt_is_power_of(g, 5) ||
	       iwt_is_power_of(g, 7);
}

/**
 * iwt_place_group() - lay out one group's metadata
 * @fs: the filesystem, its geometry chosen
 * @g: group number
 * @grp: receives where group @g keeps what
 */
static void iwt_place_group(const struct iwt_fs *fs, u32 g,
			    struct iwt_group *grp)
{
	u32 next;

	grp->first = fs->first_data_block + g * fs->bpg;
	grp->end = min_t(u64, (u64)grp->first + fs->bpg, fs->blocks);
	grp->has_super = iwt_group_has_super(g);
	/* Group 0's superblock is at byte 1024: block 1 with 1k blocks. */
	next = g ? grp->first : EXT4_MIN_BLOCK_SIZE / fs->bs;
	if (grp->has_super) {
		grp->sb = next;
		next += 1 + fs->gdt_blocks;
	}
	grp->block_bitmap = next++;
	grp->inode_bitmap = next++;
	grp->inode_table = next;
	grp->data = round_up(next + fs->itable_blocks, fs->ratio);
}

/**
 * iwt_size_groups() - choose the group count and inodes per group
 * @fs: the filesystem, its block size, cluster ratio and size chosen
 *
 * A last group that cannot hold its own metadata and one data cluster is
 * dropped, and @fs->blocks shrinks accordingly.
 *
 * Return: 0, or -EINVAL if no block is left for group 0.
 */
static int iwt_size_groups(struct iwt_fs *fs)
{
	u32 ipb = fs->bs / IWT_INODE_SIZE;
	struct iwt_group last = {};

	for (;;) {
		if (fs->blocks <= fs->first_data_block)
			return -EINVAL;
		fs->groups = DIV_ROUND_UP(fs->blocks - fs->first_data_block,
					  fs->bpg);
		fs->ipg = DIV_ROUND_UP(fs->blocks / (IWT_BYTES_PER_INODE / fs->bs),
				       fs->groups);
		/* whole inode table blocks and whole inode bitmap bytes */
		fs->ipg = round_up(max_t(u32, fs->ipg, IWT_MIN_INODES),
				   max_t(u32, ipb, 8));
		fs->ipg = min_t(u32, fs->ipg, 8 * fs->bs);
		fs->itable_blocks = fs->ipg / ipb;
		fs->gdt_blocks = DIV_ROUND_UP(fs->groups * EXT4_MIN_DESC_SIZE,
					      fs->bs);
		iwt_place_group(fs, fs->groups - 1, &last);
		if (fs->groups == 1 || last.data + fs->ratio <= last.end)
			return 0;
		fs->blocks = last.first;
	}
}

/**
 * iwt_allocate() - place the root directory, lost+found and the journal
 * @fs: the filesystem, its groups placed
 * @journal_blocks: journal length in blocks, 0 for no journal
 *
 * Root and lost+found open group 0's data, a cluster each; the journal
 * takes the first free run long enough for it, inside one group.
 *
 * Return: 0, or -EINVAL if something does not fit or @journal_blocks is
 * out of range.
 */
static int iwt_allocate(struct iwt_fs *fs, u32 journal_blocks)
{
	const struct iwt_group *g0 = &fs->grp[0];
	u32 g, start;

	if (g0->data + 2 * fs->ratio > g0->end)
		return -EINVAL;
	fs->root = (struct iwt_run){ .start = g0->data, .len = 1 };
	fs->lpf = (struct iwt_run){ .start = g0->data + fs->ratio, .len = 1 };
	if (!journal_blocks)
		return 0;
	if (journal_blocks < EXT4_IWT_MKFS_MIN_JOURNAL ||
	    journal_blocks > IWT_MAX_JOURNAL)
		return -EINVAL;
	journal_blocks = round_up(journal_blocks, fs->ratio);
	for (g = 0; g < fs->groups; g++) {
		start = g ? fs->grp[g].data : fs->lpf.start + fs->ratio;
		if (start + journal_blocks <= fs->grp[g].end) {
			fs->journal.start = start;
			fs->journal.len = journal_blocks;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * iwt_make_ids() - derive the UUID and hash seed from the parameters
 * @fs: the filesystem, laid out
 * @p: what was asked for
 *
 * The same parameters always give the same identifiers, so the same image.
 */
static void iwt_make_ids(struct iwt_fs *fs, const struct ext4_iwt_mkfs_params *p)
{
	u64 x = ((u64)fs->blocks << 24) ^ (fs->bs << 8) ^ (fs->ratio << 1) ^
		((u64)fs->journal.len << 40) ^ p->journal;
	u64 z = 0;
	unsigned int i;

	for (i = 0; i < sizeof(fs->uuid) + sizeof(fs->hash_seed); i++) {
		if (i % 8 == 0) {	/* splitmix64 step */
			x += 0x9E3779B97F4A7C15ULL;
			z = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
			z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
			z ^= z >> 31;
		}
		if (i < sizeof(fs->uuid))
			fs->uuid[i] = z >> (8 * (i % 8));
		else
			fs->hash_seed[i - sizeof(fs->uuid)] = z >> (8 * (i % 8));
	}
	fs->uuid[6] = (fs->uuid[6] & 0x0F) | 0x40;	/* version 4 */
	fs->uuid[8] = (fs->uuid[8] & 0x3F) | 0x80;	/* RFC 4122 variant */
}

/**
 * iwt_plan() - lay out the whole filesystem
 * @fs: zeroed; receives the layout
 * @p: what to make
 *
 * Return: 0, -EINVAL for parameters that cannot be honoured, or -ENOMEM.
 * On error @fs->grp may still need freeing.
 */
static int iwt_plan(struct iwt_fs *fs, const struct ext4_iwt_mkfs_params *p)
{
	u64 blocks;
	u32 g;
	int ret;

	if (p->block_size != 1024 && p->block_size != 2048 &&
	    p->block_size != 4096)
		return -EINVAL;
	if (p->cluster_ratio != 1 && p->cluster_ratio != 4 &&
	    p->cluster_ratio != 16)
		return -EINVAL;
	fs->bs = p->block_size;
	fs->ratio = p->cluster_ratio;
	fs->bpg = 8 * fs->bs * fs->ratio;
	/* bigalloc counts clusters from block 0, so group 0 starts there */
	fs->first_data_block = fs->bs == 1024 && fs->ratio == 1 ? 1 : 0;
	blocks = (p->fs_bytes >> ilog2(fs->bs)) & ~(u64)(fs->ratio - 1);
	if (blocks > U32_MAX - fs->bpg)
		return -EINVAL;
	fs->blocks = blocks;
	ret = iwt_size_groups(fs);
	if (ret)
		return ret;
	fs->grp = kzalloc_objs(*fs->grp, fs->groups, GFP_KERNEL);
	if (!fs->grp)
		return -ENOMEM;
	for (g = 0; g < fs->groups; g++)
		iwt_place_group(fs, g, &fs->grp[g]);
	ret = iwt_allocate(fs, p->journal ?
			   (p->journal_blocks ?: EXT4_IWT_MKFS_MIN_JOURNAL) : 0);
	if (ret)
		return ret;
	iwt_make_ids(fs, p);
	fs->csum = p->metadata_csum;
	if (fs->csum)
		fs->csum_seed = iwt_crc32c(~0U, fs->uuid, sizeof(fs->uuid));
	return 0;
}

/**
 * iwt_set_bits() - set a range of bits in a bitmap
 * @map: the bitmap, little-endian bit order within each byte
 * @from: first bit to set
 * @to: one past the last bit to set
 */
static void iwt_set_bits(u8 *map, u32 from, u32 to)
{
	for (; from < to; from++)
		map[from / 8] |= 1U << (from % 8);
}

/**
 * iwt_count_clear() - count the clear bits at the start of a bitmap
 * @map: the bitmap
 * @nbits: how many bits to look at
 *
 * Return: the number of clear bits among the first @nbits.
 */
static u32 iwt_count_clear(const u8 *map, u32 nbits)
{
	u32 i, n = 0;

	for (i = 0; i < nbits; i++)
		n += !(map[i / 8] & (1U << (i % 8)));
	return n;
}

/**
 * iwt_mark_blocks() - mark blocks in use in a group's block bitmap
 * @fs: the filesystem
 * @grp: the group whose bitmap @map is
 * @map: the group's block bitmap
 * @start: first block of the range
 * @len: blocks in the range; the part outside @grp is ignored
 *
 * Marks the clusters that hold blocks [@start, @start + @len).
 */
static void iwt_mark_blocks(const struct iwt_fs *fs,
			    const struct iwt_group *grp, u8 *map,
			    u32 start, u32 len)
{
	u32 end = start + len;

	if (!len || end <= grp->first || start >= grp->end)
		return;
	start = max(start, grp->first);
	end = min(end, grp->end);
	iwt_set_bits(map, (start - grp->first) / fs->ratio,
		     DIV_ROUND_UP(end - grp->first, fs->ratio));
}

/**
 * iwt_group_clusters() - clusters in a group
 * @fs: the filesystem
 * @grp: the group
 *
 * Return: the clusters of @grp, fewer than a full group's if it is a
 * short last group.
 */
static u32 iwt_group_clusters(const struct iwt_fs *fs,
			      const struct iwt_group *grp)
{
	return (grp->end - grp->first) / fs->ratio;
}

/**
 * iwt_fill_block_bitmap() - fill a group's block bitmap
 * @fs: the filesystem
 * @g: group number
 * @map: a zeroed block, receives the bitmap
 */
static void iwt_fill_block_bitmap(const struct iwt_fs *fs, u32 g, u8 *map)
{
	const struct iwt_group *grp = &fs->grp[g];

	iwt_mark_blocks(fs, grp, map, grp->first, grp->data - grp->first);
	iwt_mark_blocks(fs, grp, map, fs->root.start, fs->root.len);
	iwt_mark_blocks(fs, grp, map, fs->lpf.start, fs->lpf.len);
	iwt_mark_blocks(fs, grp, map, fs->journal.start, fs->journal.len);
	/* clusters past the end of a short last group are marked in use */
	iwt_set_bits(map, iwt_group_clusters(fs, grp), 8 * fs->bs);
}

/**
 * iwt_fill_inode_bitmap() - fill a group's inode bitmap
 * @fs: the filesystem
 * @g: group number
 * @map: a zeroed block, receives the bitmap
 */
static void iwt_fill_inode_bitmap(const struct iwt_fs *fs, u32 g, u8 *map)
{
	if (!g)		/* the reserved inodes and lost+found */
		iwt_set_bits(map, 0, IWT_LPF_INO);
	iwt_set_bits(map, fs->ipg, 8 * fs->bs);
}

/**
 * iwt_count_free() - fill in the per-group and total free counts
 * @fs: the filesystem, laid out
 * @scratch: a buffer of at least one block, overwritten
 *
 * The free cluster counts are those of the block bitmaps as written.  With
 * metadata_csum the bitmaps' checksums are taken here too: over a group's
 * clusters (a whole block) and over its inodes.
 */
static void iwt_count_free(struct iwt_fs *fs, u8 *scratch)
{
	struct iwt_group *grp;
	u32 g;

	for (g = 0; g < fs->groups; g++) {
		grp = &fs->grp[g];
		memset(scratch, 0, fs->bs);
		iwt_fill_block_bitmap(fs, g, scratch);
		grp->free_clusters = iwt_count_clear(scratch,
						     iwt_group_clusters(fs, grp));
		if (fs->csum) {
			grp->block_bitmap_csum =
				iwt_crc32c(fs->csum_seed, scratch,
					   fs->bpg / fs->ratio / 8);
			memset(scratch, 0, fs->bs);
			iwt_fill_inode_bitmap(fs, g, scratch);
			grp->inode_bitmap_csum =
				iwt_crc32c(fs->csum_seed, scratch, fs->ipg / 8);
		}
		grp->free_inodes = fs->ipg - (g ? 0 : IWT_LPF_INO);
		grp->used_dirs = g ? 0 : 2;
		fs->free_clusters += grp->free_clusters;
		fs->free_inodes += grp->free_inodes;
	}
}

/**
 * iwt_fill_extents() - map a run of blocks with an inode's extent tree
 * @in: the inode, its i_block zeroed
 * @run: the blocks, mapped from logical block 0
 *
 * The tree has depth 0: at most %IWT_ROOT_EXTENTS extents in i_block.
 */
static void iwt_fill_extents(struct ext4_inode *in, const struct iwt_run *run)
{
	struct ext4_extent_header *eh = (struct ext4_extent_header *)in->i_block;
	struct ext4_extent *ex = EXT_FIRST_EXTENT(eh);
	u32 done, n;

	eh->eh_magic = EXT4_EXT_MAGIC;
	eh->eh_max = cpu_to_le16(IWT_ROOT_EXTENTS);
	for (done = 0; done < run->len; done += n, ex++) {
		n = min_t(u32, run->len - done, EXT_INIT_MAX_LEN);
		ex->ee_block = cpu_to_le32(done);
		ex->ee_len = cpu_to_le16(n);
		ext4_ext_store_pblock(ex, run->start + done);
	}
	eh->eh_entries = cpu_to_le16(ex - EXT_FIRST_EXTENT(eh));
}

/**
 * iwt_fill_inode() - fill an inode this formatter creates
 * @fs: the filesystem
 * @ino: inode number
 * @in: the zeroed on-disk inode; left zero unless @ino is the root
 *	directory, lost+found or the journal
 *
 * The checksum, if any, is left to the caller: it covers the whole
 * %IWT_INODE_SIZE record, of which @in is only the start.
 *
 * Return: true if @in was filled, false if it stays zero.
 */
static bool iwt_fill_inode(const struct iwt_fs *fs, u32 ino,
			   struct ext4_inode *in)
{
	const struct iwt_run *run;
	u16 mode, links;

	if (ino == EXT4_ROOT_INO) {
		run = &fs->root;
		mode = S_IFDIR | 0755;
		links = 3;		/* ".", ".." and lost+found's ".." */
	} else if (ino == IWT_LPF_INO) {
		run = &fs->lpf;
		mode = S_IFDIR | 0700;
		links = 2;
	} else if (ino == EXT4_JOURNAL_INO && fs->journal.len) {
		run = &fs->journal;
		mode = S_IFREG | 0600;
		links = 1;
	} else {
		return false;
	}
	in->i_mode = cpu_to_le16(mode);
	ext4_isize_set(in, (u64)run->len * fs->bs);
	in->i_atime = cpu_to_le32(IWT_TIME);
	in->i_ctime = cpu_to_le32(IWT_TIME);
	in->i_mtime = cpu_to_le32(IWT_TIME);
	in->i_crtime = cpu_to_le32(IWT_TIME);
	in->i_links_count = cpu_to_le16(links);
	/* i_blocks counts whole clusters, allocated even if partly mapped */
	in->i_blocks_lo = cpu_to_le32(round_up(run->len, fs->ratio) *
				      (fs->bs >> SECTOR_SHIFT));
	in->i_flags = cpu_to_le32(EXT4_EXTENTS_FL);
	in->i_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	iwt_fill_extents(in, run);
	return true;
}

/**
 * iwt_inode_csum_seed() - the checksum seed of one inode's metadata
 * @fs: the filesystem, with metadata_csum
 * @ino: inode number
 * @generation: the inode's i_generation, as on disk
 *
 * Return: crc32c of the inode number and generation, seeded with the
 * filesystem's seed: what ext4 keeps as the inode's i_csum_seed.
 */
static u32 iwt_inode_csum_seed(const struct iwt_fs *fs, u32 ino,
			       __le32 generation)
{
	__le32 inum = cpu_to_le32(ino);
	u32 crc;

	crc = iwt_crc32c(fs->csum_seed, &inum, sizeof(inum));
	return iwt_crc32c(crc, &generation, sizeof(generation));
}

/**
 * iwt_inode_csum_set() - checksum an inode record
 * @fs: the filesystem, with metadata_csum
 * @ino: inode number
 * @raw: the %IWT_INODE_SIZE bytes of the inode, its checksum fields zero
 *
 * i_extra_isize covers i_checksum_hi, so the crc32c of the whole record is
 * split between i_checksum_lo and i_checksum_hi.
 */
static void iwt_inode_csum_set(const struct iwt_fs *fs, u32 ino, u8 *raw)
{
	struct ext4_inode *in = (struct ext4_inode *)raw;
	u32 crc = iwt_inode_csum_seed(fs, ino, in->i_generation);

	crc = iwt_crc32c(crc, raw, IWT_INODE_SIZE);
	in->i_checksum_lo = cpu_to_le16(crc & 0xFFFF);
	in->i_checksum_hi = cpu_to_le16(crc >> 16);
}

/**
 * iwt_fill_super() - fill a superblock
 * @fs: the filesystem, its free counts known
 * @g: number of the group the copy is in
 * @sb: the zeroed superblock
 */
static void iwt_fill_super(const struct iwt_fs *fs, u32 g,
			   struct ext4_super_block *sb)
{
	u32 compat = EXT4_FEATURE_COMPAT_EXT_ATTR;
	u32 ro_compat = EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER |
			EXT4_FEATURE_RO_COMPAT_LARGE_FILE |
			EXT4_FEATURE_RO_COMPAT_HUGE_FILE |
			EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
			EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE;
	struct ext4_inode journal = {};
	u32 crc;

	if (fs->ratio > 1)
		ro_compat |= EXT4_FEATURE_RO_COMPAT_BIGALLOC;
	if (fs->csum) {
		ro_compat |= EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
		sb->s_checksum_type = EXT4_CRC32C_CHKSUM;
	}
	if (fs->journal.len) {
		compat |= EXT4_FEATURE_COMPAT_HAS_JOURNAL;
		sb->s_journal_inum = cpu_to_le32(EXT4_JOURNAL_INO);
		sb->s_jnl_backup_type = IWT_JNL_BACKUP_BLOCKS;
		iwt_fill_inode(fs, EXT4_JOURNAL_INO, &journal);
		memcpy(sb->s_jnl_blocks, journal.i_block, sizeof(journal.i_block));
		sb->s_jnl_blocks[EXT4_N_BLOCKS] = journal.i_size_high;
		sb->s_jnl_blocks[EXT4_N_BLOCKS + 1] = journal.i_size_lo;
	}
	sb->s_inodes_count = cpu_to_le32(fs->ipg * fs->groups);
	sb->s_blocks_count_lo = cpu_to_le32(fs->blocks);
	/* in blocks, even with bigalloc */
	sb->s_free_blocks_count_lo = cpu_to_le32(fs->free_clusters * fs->ratio);
	sb->s_free_inodes_count = cpu_to_le32(fs->free_inodes);
	sb->s_first_data_block = cpu_to_le32(fs->first_data_block);
	sb->s_log_block_size = cpu_to_le32(ilog2(fs->bs) -
					   EXT4_MIN_BLOCK_LOG_SIZE);
	sb->s_log_cluster_size = cpu_to_le32(ilog2(fs->bs * fs->ratio) -
					     EXT4_MIN_BLOCK_LOG_SIZE);
	sb->s_blocks_per_group = cpu_to_le32(fs->bpg);
	sb->s_clusters_per_group = cpu_to_le32(fs->bpg / fs->ratio);
	sb->s_inodes_per_group = cpu_to_le32(fs->ipg);
	sb->s_wtime = cpu_to_le32(IWT_TIME);
	sb->s_max_mnt_count = cpu_to_le16(U16_MAX);	/* -1: no forced fsck */
	sb->s_magic = cpu_to_le16(EXT4_SUPER_MAGIC);
	sb->s_state = cpu_to_le16(EXT4_VALID_FS);
	sb->s_errors = cpu_to_le16(EXT4_ERRORS_CONTINUE);
	sb->s_lastcheck = cpu_to_le32(IWT_TIME);
	sb->s_creator_os = cpu_to_le32(EXT4_OS_LINUX);
	sb->s_rev_level = cpu_to_le32(EXT4_DYNAMIC_REV);
	sb->s_first_ino = cpu_to_le32(EXT4_GOOD_OLD_FIRST_INO);
	sb->s_inode_size = cpu_to_le16(IWT_INODE_SIZE);
	sb->s_block_group_nr = cpu_to_le16(g);
	sb->s_feature_compat = cpu_to_le32(compat);
	sb->s_feature_incompat = cpu_to_le32(EXT4_FEATURE_INCOMPAT_FILETYPE |
					     EXT4_FEATURE_INCOMPAT_EXTENTS);
	sb->s_feature_ro_compat = cpu_to_le32(ro_compat);
	memcpy(sb->s_uuid, fs->uuid, sizeof(sb->s_uuid));
	/* the seed's bytes as they are: its words are read little-endian */
	memcpy(sb->s_hash_seed, fs->hash_seed, sizeof(sb->s_hash_seed));
	sb->s_def_hash_version = DX_HASH_HALF_MD4;
	sb->s_mkfs_time = cpu_to_le32(IWT_TIME);
	sb->s_min_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	sb->s_want_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	sb->s_flags = cpu_to_le32(EXT2_FLAGS_SIGNED_HASH);
	/* last: it covers every byte before it, seeded with ~0 */
	if (fs->csum) {
		crc = iwt_crc32c(~0U, sb,
				 offsetof(struct ext4_super_block, s_checksum));
		sb->s_checksum = cpu_to_le32(crc);
	}
}

/**
 * iwt_fill_group_desc() - fill one group descriptor
 * @fs: the filesystem, its free counts known
 * @g: group number
 * @gd: receives the descriptor; only its first %EXT4_MIN_DESC_SIZE
 *	bytes are on disk
 */
static void iwt_fill_group_desc(const struct iwt_fs *fs, u32 g,
				struct ext4_group_desc *gd)
{
	const struct iwt_group *grp = &fs->grp[g];

	memset(gd, 0, sizeof(*gd));
	gd->bg_block_bitmap_lo = cpu_to_le32(grp->block_bitmap);
	gd->bg_inode_bitmap_lo = cpu_to_le32(grp->inode_bitmap);
	gd->bg_inode_table_lo = cpu_to_le32(grp->inode_table);
	gd->bg_free_blocks_count_lo = cpu_to_le16(grp->free_clusters);
	gd->bg_free_inodes_count_lo = cpu_to_le16(grp->free_inodes);
	gd->bg_used_dirs_count_lo = cpu_to_le16(grp->used_dirs);
	/* written zeroed: keeps the kernel's lazy itable init idle */
	gd->bg_flags = cpu_to_le16(EXT4_BG_INODE_ZEROED);
	if (fs->csum) {
		__le32 le_group = cpu_to_le32(g);
		u32 crc;

		/* only the low halves fit in a 32-byte descriptor */
		gd->bg_block_bitmap_csum_lo =
			cpu_to_le16(grp->block_bitmap_csum & 0xFFFF);
		gd->bg_inode_bitmap_csum_lo =
			cpu_to_le16(grp->inode_bitmap_csum & 0xFFFF);
		/* the group number, then the descriptor, bg_checksum zero */
		crc = iwt_crc32c(fs->csum_seed, &le_group, sizeof(le_group));
		crc = iwt_crc32c(crc, gd, EXT4_MIN_DESC_SIZE);
		gd->bg_checksum = cpu_to_le16(crc & 0xFFFF);
	}
}

/**
 * iwt_fill_gdt() - fill one block of the group descriptor table
 * @fs: the filesystem, its free counts known
 * @index: block number within the table
 * @buf: the zeroed block
 */
static void iwt_fill_gdt(const struct iwt_fs *fs, u32 index, u8 *buf)
{
	u32 per_block = fs->bs / EXT4_MIN_DESC_SIZE;
	u32 first = index * per_block;
	struct ext4_group_desc gd;
	u32 i;

	for (i = 0; i < per_block && first + i < fs->groups; i++) {
		iwt_fill_group_desc(fs, first + i, &gd);
		memcpy(buf + i * EXT4_MIN_DESC_SIZE, &gd, EXT4_MIN_DESC_SIZE);
	}
}

/**
 * iwt_fill_inode_table() - fill one block of a group's inode table
 * @fs: the filesystem
 * @g: group number
 * @index: block number within the group's inode table
 * @buf: the zeroed block
 */
static void iwt_fill_inode_table(const struct iwt_fs *fs, u32 g, u32 index,
				 u8 *buf)
{
	u32 per_block = fs->bs / IWT_INODE_SIZE;
	u32 first = g * fs->ipg + index * per_block + 1;
	u8 *raw;
	u32 i;

	for (i = 0; i < per_block; i++) {
		raw = buf + i * IWT_INODE_SIZE;
		if (iwt_fill_inode(fs, first + i, (struct ext4_inode *)raw) &&
		    fs->csum)
			iwt_inode_csum_set(fs, first + i, raw);
	}
}

/**
 * iwt_add_dirent() - add a directory entry for a directory
 * @fs: the filesystem
 * @buf: the directory block
 * @off: byte offset of the entry in @buf
 * @ino: inode the entry names
 * @rec_len: length of the record, up to the next entry
 * @name: the entry's name
 *
 * Return: the offset of the next entry.
 */
static u32 iwt_add_dirent(const struct iwt_fs *fs, u8 *buf, u32 off, u32 ino,
			  u32 rec_len, const char *name)
{
	struct ext4_dir_entry_2 *de = (struct ext4_dir_entry_2 *)(buf + off);

	de->inode = cpu_to_le32(ino);
	de->rec_len = ext4_rec_len_to_disk(rec_len, fs->bs);
	de->name_len = strlen(name);
	de->file_type = EXT4_FT_DIR;
	memcpy(de->name, name, de->name_len);
	return off + rec_len;
}

/**
 * iwt_fill_dir() - fill the only block of the root directory or lost+found
 * @fs: the filesystem
 * @ino: %EXT4_ROOT_INO or %IWT_LPF_INO
 * @buf: the zeroed block
 *
 * The last entry reaches the end of the block, or with metadata_csum the
 * tail entry that holds the block's checksum.
 */
static void iwt_fill_dir(const struct iwt_fs *fs, u32 ino, u8 *buf)
{
	struct ext4_dir_entry_tail *tail = EXT4_DIRENT_TAIL(buf, fs->bs);
	u32 end = fs->csum ? (u8 *)tail - buf : fs->bs;
	u32 off = iwt_add_dirent(fs, buf, 0, ino, ext4_dir_rec_len(1, NULL),
				 ".");
	u32 crc;

	if (ino == EXT4_ROOT_INO) {
		off = iwt_add_dirent(fs, buf, off, EXT4_ROOT_INO,
				     ext4_dir_rec_len(2, NULL), "..");
		iwt_add_dirent(fs, buf, off, IWT_LPF_INO, end - off,
			       "lost+found");
	} else {
		iwt_add_dirent(fs, buf, off, EXT4_ROOT_INO, end - off, "..");
	}
	if (!fs->csum)
		return;
	tail->det_rec_len = ext4_rec_len_to_disk(sizeof(*tail), fs->bs);
	tail->det_reserved_ft = EXT4_FT_DIR_CSUM;
	crc = iwt_crc32c(iwt_inode_csum_seed(fs, ino, 0), buf, end);
	tail->det_checksum = cpu_to_le32(crc);
}

/**
 * iwt_fill_journal_super() - fill the journal's superblock
 * @fs: the filesystem, with a journal
 * @jsb: the zeroed first block of the journal
 *
 * The journal is empty: s_start 0, nothing to replay.
 */
static void iwt_fill_journal_super(const struct iwt_fs *fs,
				   journal_superblock_t *jsb)
{
	jsb->s_header.h_magic = cpu_to_be32(JBD2_MAGIC_NUMBER);
	jsb->s_header.h_blocktype = cpu_to_be32(JBD2_SUPERBLOCK_V2);
	jsb->s_blocksize = cpu_to_be32(fs->bs);
	jsb->s_maxlen = cpu_to_be32(fs->journal.len);
	jsb->s_first = cpu_to_be32(1);
	jsb->s_sequence = cpu_to_be32(1);
	memcpy(jsb->s_uuid, fs->uuid, sizeof(jsb->s_uuid));
	jsb->s_nr_users = cpu_to_be32(1);
	if (fs->csum) {
		jsb->s_feature_incompat =
			cpu_to_be32(JBD2_FEATURE_INCOMPAT_CSUM_V3);
		jsb->s_checksum_type = JBD2_CRC32C_CHKSUM;
		/* last: the whole superblock, s_checksum zero, seeded with ~0 */
		jsb->s_checksum =
			cpu_to_be32(iwt_crc32c(~0U, jsb, sizeof(*jsb)));
	}
}

/**
 * iwt_fill_block() - fill one block of the filesystem
 * @fs: the filesystem, its free counts known
 * @blk: block number
 * @buf: the zeroed block, receives its contents
 */
static void iwt_fill_block(const struct iwt_fs *fs, u32 blk, u8 *buf)
{
	const struct iwt_group *grp;
	u32 g;

	if (blk < fs->first_data_block)
		return;			/* 1k boot block */
	g = (blk - fs->first_data_block) / fs->bpg;
	grp = &fs->grp[g];
	if (grp->has_super && blk == grp->sb)
		iwt_fill_super(fs, g, (struct ext4_super_block *)
			       (buf + (g ? 0 : EXT4_MIN_BLOCK_SIZE % fs->bs)));
	else if (grp->has_super && blk > grp->sb &&
		 blk <= grp->sb + fs->gdt_blocks)
		iwt_fill_gdt(fs, blk - grp->sb - 1, buf);
	else if (blk == grp->block_bitmap)
		iwt_fill_block_bitmap(fs, g, buf);
	else if (blk == grp->inode_bitmap)
		iwt_fill_inode_bitmap(fs, g, buf);
	else if (blk >= grp->inode_table &&
		 blk < grp->inode_table + fs->itable_blocks)
		iwt_fill_inode_table(fs, g, blk - grp->inode_table, buf);
	else if (blk == fs->root.start)
		iwt_fill_dir(fs, EXT4_ROOT_INO, buf);
	else if (blk == fs->lpf.start)
		iwt_fill_dir(fs, IWT_LPF_INO, buf);
	else if (fs->journal.len && blk == fs->journal.start)
		iwt_fill_journal_super(fs, (journal_superblock_t *)buf);
}

/**
 * iwt_write_all() - write every block of the filesystem
 * @fs: the filesystem, its free counts known
 * @write: the caller's write function
 * @ctx: passed to @write
 * @chunk: a buffer of %EXT4_IWT_MKFS_CHUNK bytes
 *
 * Return: 0, or the first error @write returned.
 */
static int iwt_write_all(const struct iwt_fs *fs, ext4_iwt_mkfs_write_t write,
			 void *ctx, u8 *chunk)
{
	u32 per_chunk = EXT4_IWT_MKFS_CHUNK / fs->bs;
	u32 blk, i, n;
	int ret;

	for (blk = 0; blk < fs->blocks; blk += n) {
		n = min_t(u32, per_chunk, fs->blocks - blk);
		memset(chunk, 0, n * fs->bs);
		for (i = 0; i < n; i++)
			iwt_fill_block(fs, blk + i, chunk + i * fs->bs);
		ret = write(ctx, (u64)blk * fs->bs, chunk, n * fs->bs);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * iwt_report() - tell the caller what was made
 * @fs: the filesystem as written
 * @out: receives its layout
 */
static void iwt_report(const struct iwt_fs *fs, struct ext4_iwt_mkfs_layout *out)
{
	memset(out, 0, sizeof(*out));
	out->blocks = fs->blocks;
	out->clusters = fs->blocks / fs->ratio;
	out->groups = fs->groups;
	out->blocks_per_group = fs->bpg;
	out->inodes_per_group = fs->ipg;
	out->inodes = fs->ipg * fs->groups;
	out->first_data_block = fs->first_data_block;
	out->gdt_blocks = fs->gdt_blocks;
	out->inode_table_blocks = fs->itable_blocks;
	out->free_clusters = fs->free_clusters;
	out->free_blocks = fs->free_clusters * fs->ratio;
	out->free_inodes = fs->free_inodes;
	out->root_block = fs->root.start;
	out->lpf_block = fs->lpf.start;
	out->journal_start = fs->journal.start;
	out->journal_blocks = fs->journal.len;
}

/**
 * ext4_iwt_mkfs() - format an ext4 filesystem through a write callback
 * @p: geometry and features, see &struct ext4_iwt_mkfs_params
 * @write: called for every block of the filesystem, zero blocks included,
 *	in increasing and contiguous offset order, at most
 *	%EXT4_IWT_MKFS_CHUNK bytes at a time
 * @ctx: passed to @write unchanged
 * @out: if not NULL, receives the layout that was written
 *
 * The result has rev 1 dynamic 256-byte inodes, sparse_super, filetype,
 * extents, large_file, huge_file, dir_nlink and extra_isize; bigalloc when
 * @p->cluster_ratio > 1, has_journal when @p->journal and metadata_csum
 * when @p->metadata_csum.  Only the root directory and lost+found exist.
 * Every group is fully initialised and flagged INODE_ZEROED: there is no
 * uninit_bg, flex_bg or 64bit.
 *
 * Return: 0, -EINVAL for an unsupported block size or cluster ratio, a
 * size too small for the metadata or the journal, or a journal length
 * outside [%EXT4_IWT_MKFS_MIN_JOURNAL, 131072]; -ENOMEM; or the first
 * error returned by @write.
 */
int ext4_iwt_mkfs(const struct ext4_iwt_mkfs_params *p,
		  ext4_iwt_mkfs_write_t write, void *ctx,
		  struct ext4_iwt_mkfs_layout *out)
{
	struct iwt_fs fs = {};
	u8 *chunk = NULL;
	int ret;

	if (!p || !write)
		return -EINVAL;
	ret = iwt_plan(&fs, p);
	if (ret)
		goto out;
	chunk = kvmalloc(EXT4_IWT_MKFS_CHUNK, GFP_KERNEL);
	if (!chunk) {
		ret = -ENOMEM;
		goto out;
	}
	iwt_count_free(&fs, chunk);
	ret = iwt_write_all(&fs, write, ctx, chunk);
	if (!ret && out)
		iwt_report(&fs, out);
out:
	kvfree(chunk);
	kfree(fs.grp);
	return ret;
}
