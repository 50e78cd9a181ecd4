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
 * The on-disk structures below follow Documentation/filesystems/ext4/ and
 * name only the fields this formatter sets; the rest stay zero.
 */

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <asm/byteorder.h>

#include "iomap_write_test_mkfs.h"

#define IWT_SB_OFFSET		1024
#define IWT_SB_MAGIC		0xEF53
#define IWT_STATE_CLEAN		1
#define IWT_ERRORS_CONTINUE	1
#define IWT_REV_DYNAMIC		1
#define IWT_HASH_HALF_MD4	1
#define IWT_FLAGS_SIGNED_HASH	1
#define IWT_JNL_BACKUP_BLOCKS	1
#define IWT_DESC_SIZE		32
#define IWT_BG_INODE_ZEROED	0x0004
#define IWT_INODE_SIZE		256
#define IWT_EXTRA_ISIZE		32
#define IWT_ROOT_INO		2
#define IWT_JOURNAL_INO		8
#define IWT_LPF_INO		11	/* also the first non-reserved inode */
#define IWT_BYTES_PER_INODE	16384
#define IWT_MIN_INODES		16	/* per group */
#define IWT_MAX_EXTENT_LEN	32768
#define IWT_ROOT_EXTENTS	4
#define IWT_MAX_JOURNAL		(IWT_ROOT_EXTENTS * IWT_MAX_EXTENT_LEN)
/* A fixed time (2024-01-01 00:00:00 UTC) keeps the images reproducible. */
#define IWT_TIME		1704067200

#define IWT_COMPAT_HAS_JOURNAL		0x0004
#define IWT_COMPAT_EXT_ATTR		0x0008
#define IWT_INCOMPAT_FILETYPE		0x0002
#define IWT_INCOMPAT_EXTENTS		0x0040
#define IWT_RO_COMPAT_SPARSE_SUPER	0x0001
#define IWT_RO_COMPAT_LARGE_FILE	0x0002
#define IWT_RO_COMPAT_HUGE_FILE		0x0008
#define IWT_RO_COMPAT_DIR_NLINK		0x0020
#define IWT_RO_COMPAT_EXTRA_ISIZE	0x0040
#define IWT_RO_COMPAT_BIGALLOC		0x0200

#define IWT_S_IFDIR		0040000
#define IWT_S_IFREG		0100000
#define IWT_EXTENTS_FL		0x00080000
#define IWT_EXTENT_MAGIC	0xF30A
#define IWT_FT_DIR		2

#define IWT_JBD2_MAGIC		0xC03B3998
#define IWT_JBD2_SUPERBLOCK_V2	4

/* Superblock, 1024 bytes at byte 1024 and at the start of backup groups. */
struct iwt_super {
	__le32 s_inodes_count;		/* 0x00 */
	__le32 s_blocks_count;
	__le32 s_r_blocks_count;
	__le32 s_free_blocks_count;	/* in blocks, even with bigalloc */
	__le32 s_free_inodes_count;	/* 0x10 */
	__le32 s_first_data_block;
	__le32 s_log_block_size;
	__le32 s_log_cluster_size;
	__le32 s_blocks_per_group;	/* 0x20 */
	__le32 s_clusters_per_group;
	__le32 s_inodes_per_group;
	__le32 s_mtime;
	__le32 s_wtime;			/* 0x30 */
	__le16 s_mnt_count;
	__le16 s_max_mnt_count;
	__le16 s_magic;
	__le16 s_state;
	__le16 s_errors;
	__le16 s_minor_rev_level;
	__le32 s_lastcheck;		/* 0x40 */
	__le32 s_checkinterval;
	__le32 s_creator_os;
	__le32 s_rev_level;
	__le16 s_def_resuid;		/* 0x50 */
	__le16 s_def_resgid;
	__le32 s_first_ino;
	__le16 s_inode_size;
	__le16 s_block_group_nr;
	__le32 s_feature_compat;
	__le32 s_feature_incompat;	/* 0x60 */
	__le32 s_feature_ro_compat;
	u8 s_uuid[16];
	u8 s_unused1[88];		/* 0x78: names, prealloc, reserved GDT */
	u8 s_journal_uuid[16];		/* 0xD0 */
	__le32 s_journal_inum;		/* 0xE0 */
	__le32 s_journal_dev;
	__le32 s_last_orphan;
	u8 s_hash_seed[16];
	u8 s_def_hash_version;		/* 0xFC */
	u8 s_jnl_backup_type;
	__le16 s_desc_size;
	__le32 s_default_mount_opts;	/* 0x100 */
	__le32 s_first_meta_bg;
	__le32 s_mkfs_time;
	__le32 s_jnl_blocks[17];	/* i_block[15], i_size_high, i_size */
	__le32 s_blocks_count_hi;	/* 0x150 */
	__le32 s_r_blocks_count_hi;
	__le32 s_free_blocks_count_hi;
	__le16 s_min_extra_isize;
	__le16 s_want_extra_isize;
	__le32 s_flags;			/* 0x160 */
	u8 s_unused2[0x400 - 0x164];
} __packed;

/* Group descriptor without the 64bit feature. */
struct iwt_group_desc {
	__le32 bg_block_bitmap;
	__le32 bg_inode_bitmap;
	__le32 bg_inode_table;
	__le16 bg_free_clusters;
	__le16 bg_free_inodes;
	__le16 bg_used_dirs;
	__le16 bg_flags;
	u8 bg_unused[12];		/* snapshot bitmap, checksums */
} __packed;

struct iwt_extent_header {
	__le16 eh_magic;
	__le16 eh_entries;
	__le16 eh_max;
	__le16 eh_depth;
	__le32 eh_generation;
} __packed;

struct iwt_extent {
	__le32 ee_block;		/* first logical block */
	__le16 ee_len;
	__le16 ee_start_hi;
	__le32 ee_start;		/* first physical block */
} __packed;

/* A depth 0 extent tree filling the inode's 60-byte i_block. */
struct iwt_extent_root {
	struct iwt_extent_header hdr;
	struct iwt_extent ext[IWT_ROOT_EXTENTS];
} __packed;

struct iwt_inode {
	__le16 i_mode;			/* 0x00 */
	__le16 i_uid;
	__le32 i_size;
	__le32 i_atime;
	__le32 i_ctime;
	__le32 i_mtime;			/* 0x10 */
	__le32 i_dtime;
	__le16 i_gid;
	__le16 i_links_count;
	__le32 i_blocks;		/* 512-byte units */
	__le32 i_flags;			/* 0x20 */
	__le32 i_version;
	struct iwt_extent_root i_block;	/* 0x28 */
	__le32 i_generation;		/* 0x64 */
	__le32 i_file_acl;
	__le32 i_size_high;
	u8 i_unused1[16];		/* 0x70: fragment address, osd2 */
	__le16 i_extra_isize;		/* 0x80 */
	__le16 i_checksum_hi;
	__le32 i_ctime_extra;
	__le32 i_mtime_extra;
	__le32 i_atime_extra;
	__le32 i_crtime;		/* 0x90 */
	u8 i_unused2[IWT_INODE_SIZE - 0x94];
} __packed;

struct iwt_dirent {
	__le32 inode;
	__le16 rec_len;
	u8 name_len;
	u8 file_type;
	char name[];
} __packed;

/* jbd2 superblock; big-endian, only the leading fields are used. */
struct iwt_jbd2_super {
	__be32 h_magic;
	__be32 h_blocktype;
	__be32 h_sequence;
	__be32 s_blocksize;
	__be32 s_maxlen;
	__be32 s_first;
	__be32 s_sequence;
	__be32 s_start;			/* 0: nothing to replay */
	__be32 s_errno;
	__be32 s_feature_compat;
	__be32 s_feature_incompat;
	__be32 s_feature_ro_compat;
	u8 s_uuid[16];
	__be32 s_nr_users;
} __packed;

static_assert(sizeof(struct iwt_super) == 1024);
static_assert(offsetof(struct iwt_super, s_journal_uuid) == 0xD0);
static_assert(offsetof(struct iwt_super, s_jnl_blocks) == 0x10C);
static_assert(sizeof(struct iwt_group_desc) == IWT_DESC_SIZE);
static_assert(sizeof(struct iwt_extent_root) == 60);
static_assert(offsetof(struct iwt_inode, i_extra_isize) == 0x80);
static_assert(sizeof(struct iwt_inode) == IWT_INODE_SIZE);
static_assert(offsetof(struct iwt_jbd2_super, s_nr_users) == 0x40);

/* Blocks [start, start + len) mapped by one inode, from a cluster start. */
struct iwt_run {
	u32 start;
	u32 len;
};

struct iwt_group {
	u32 first;			/* first block of the group */
	u32 end;			/* one past its last block */
	u32 sb;				/* superblock copy, if has_super */
	u32 block_bitmap;
	u32 inode_bitmap;
	u32 inode_table;
	u32 data;			/* first cluster after the metadata */
	u32 free_clusters;
	u32 free_inodes;
	u32 used_dirs;
	bool has_super;
};

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
};

static bool iwt_is_power_of(u32 n, u32 base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

/* sparse_super: copies live in groups 0, 1 and powers of 3, 5 and 7. */
static bool iwt_group_has_super(u32 g)
{
	return g <= 1 || iwt_is_power_of(g, 3) || iwt_is_power_of(g, 5) ||
	       iwt_is_power_of(g, 7);
}

static void iwt_place_group(const struct iwt_fs *fs, u32 g,
			    struct iwt_group *grp)
{
	u32 next;

	grp->first = fs->first_data_block + g * fs->bpg;
	grp->end = min_t(u64, (u64)grp->first + fs->bpg, fs->blocks);
	grp->has_super = iwt_group_has_super(g);
	/* Group 0's superblock is at byte 1024: block 1 with 1k blocks. */
	next = g ? grp->first : IWT_SB_OFFSET / fs->bs;
	if (grp->has_super) {
		grp->sb = next;
		next += 1 + fs->gdt_blocks;
	}
	grp->block_bitmap = next++;
	grp->inode_bitmap = next++;
	grp->inode_table = next;
	grp->data = round_up(next + fs->itable_blocks, fs->ratio);
}

/*
 * Choose the group count and inodes per group for fs->blocks, dropping a
 * last group that cannot hold its own metadata and one data cluster.
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
		fs->gdt_blocks = DIV_ROUND_UP(fs->groups * IWT_DESC_SIZE, fs->bs);
		iwt_place_group(fs, fs->groups - 1, &last);
		if (fs->groups == 1 || last.data + fs->ratio <= last.end)
			return 0;
		fs->blocks = last.first;
	}
}

/* Root and lost+found open group 0's data; the journal takes a free run. */
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

/* Deterministic UUID and hash seed derived from the parameters. */
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
	return 0;
}

static void iwt_set_bits(u8 *map, u32 from, u32 to)
{
	for (; from < to; from++)
		map[from / 8] |= 1U << (from % 8);
}

static u32 iwt_count_clear(const u8 *map, u32 nbits)
{
	u32 i, n = 0;

	for (i = 0; i < nbits; i++)
		n += !(map[i / 8] & (1U << (i % 8)));
	return n;
}

/* Mark in @grp's bitmap the clusters that hold blocks [start, start + len). */
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

static u32 iwt_group_clusters(const struct iwt_fs *fs,
			      const struct iwt_group *grp)
{
	return (grp->end - grp->first) / fs->ratio;
}

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

static void iwt_fill_inode_bitmap(const struct iwt_fs *fs, u32 g, u8 *map)
{
	if (!g)		/* inodes 1-10 are reserved, 11 is lost+found */
		iwt_set_bits(map, 0, IWT_LPF_INO);
	iwt_set_bits(map, fs->ipg, 8 * fs->bs);
}

/* Fill in the per-group and total free counts from the bitmaps. */
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
		grp->free_inodes = fs->ipg - (g ? 0 : IWT_LPF_INO);
		grp->used_dirs = g ? 0 : 2;
		fs->free_clusters += grp->free_clusters;
		fs->free_inodes += grp->free_inodes;
	}
}

static void iwt_fill_extents(struct iwt_extent_root *root,
			     const struct iwt_run *run)
{
	u32 done, n, i = 0;

	root->hdr.eh_magic = cpu_to_le16(IWT_EXTENT_MAGIC);
	root->hdr.eh_max = cpu_to_le16(IWT_ROOT_EXTENTS);
	for (done = 0; done < run->len; done += n, i++) {
		n = min_t(u32, run->len - done, IWT_MAX_EXTENT_LEN);
		root->ext[i].ee_block = cpu_to_le32(done);
		root->ext[i].ee_len = cpu_to_le16(n);
		root->ext[i].ee_start = cpu_to_le32(run->start + done);
	}
	root->hdr.eh_entries = cpu_to_le16(i);
}

/* Fill @in if @ino is one this formatter creates; leave it zero if not. */
static void iwt_fill_inode(const struct iwt_fs *fs, u32 ino,
			   struct iwt_inode *in)
{
	const struct iwt_run *run;
	u16 mode, links;
	u64 size;

	if (ino == IWT_ROOT_INO) {
		run = &fs->root;
		mode = IWT_S_IFDIR | 0755;
		links = 3;		/* ".", ".." and lost+found's ".." */
	} else if (ino == IWT_LPF_INO) {
		run = &fs->lpf;
		mode = IWT_S_IFDIR | 0700;
		links = 2;
	} else if (ino == IWT_JOURNAL_INO && fs->journal.len) {
		run = &fs->journal;
		mode = IWT_S_IFREG | 0600;
		links = 1;
	} else {
		return;
	}
	size = (u64)run->len * fs->bs;
	in->i_mode = cpu_to_le16(mode);
	in->i_size = cpu_to_le32((u32)size);
	in->i_size_high = cpu_to_le32(size >> 32);
	in->i_atime = cpu_to_le32(IWT_TIME);
	in->i_ctime = cpu_to_le32(IWT_TIME);
	in->i_mtime = cpu_to_le32(IWT_TIME);
	in->i_crtime = cpu_to_le32(IWT_TIME);
	in->i_links_count = cpu_to_le16(links);
	/* i_blocks counts whole clusters, allocated even if partly mapped */
	in->i_blocks = cpu_to_le32(round_up(run->len, fs->ratio) * (fs->bs / 512));
	in->i_flags = cpu_to_le32(IWT_EXTENTS_FL);
	in->i_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	iwt_fill_extents(&in->i_block, run);
}

static void iwt_fill_super(const struct iwt_fs *fs, u32 g, struct iwt_super *sb)
{
	u32 compat = IWT_COMPAT_EXT_ATTR;
	u32 ro_compat = IWT_RO_COMPAT_SPARSE_SUPER | IWT_RO_COMPAT_LARGE_FILE |
			IWT_RO_COMPAT_HUGE_FILE | IWT_RO_COMPAT_DIR_NLINK |
			IWT_RO_COMPAT_EXTRA_ISIZE;
	struct iwt_inode journal = {};

	if (fs->ratio > 1)
		ro_compat |= IWT_RO_COMPAT_BIGALLOC;
	if (fs->journal.len) {
		compat |= IWT_COMPAT_HAS_JOURNAL;
		sb->s_journal_inum = cpu_to_le32(IWT_JOURNAL_INO);
		sb->s_jnl_backup_type = IWT_JNL_BACKUP_BLOCKS;
		iwt_fill_inode(fs, IWT_JOURNAL_INO, &journal);
		memcpy(sb->s_jnl_blocks, &journal.i_block, sizeof(journal.i_block));
		sb->s_jnl_blocks[15] = journal.i_size_high;
		sb->s_jnl_blocks[16] = journal.i_size;
	}
	sb->s_inodes_count = cpu_to_le32(fs->ipg * fs->groups);
	sb->s_blocks_count = cpu_to_le32(fs->blocks);
	sb->s_free_blocks_count = cpu_to_le32(fs->free_clusters * fs->ratio);
	sb->s_free_inodes_count = cpu_to_le32(fs->free_inodes);
	sb->s_first_data_block = cpu_to_le32(fs->first_data_block);
	sb->s_log_block_size = cpu_to_le32(ilog2(fs->bs) - 10);
	sb->s_log_cluster_size = cpu_to_le32(ilog2(fs->bs * fs->ratio) - 10);
	sb->s_blocks_per_group = cpu_to_le32(fs->bpg);
	sb->s_clusters_per_group = cpu_to_le32(fs->bpg / fs->ratio);
	sb->s_inodes_per_group = cpu_to_le32(fs->ipg);
	sb->s_wtime = cpu_to_le32(IWT_TIME);
	sb->s_max_mnt_count = cpu_to_le16(U16_MAX);	/* -1: no forced fsck */
	sb->s_magic = cpu_to_le16(IWT_SB_MAGIC);
	sb->s_state = cpu_to_le16(IWT_STATE_CLEAN);
	sb->s_errors = cpu_to_le16(IWT_ERRORS_CONTINUE);
	sb->s_lastcheck = cpu_to_le32(IWT_TIME);
	sb->s_rev_level = cpu_to_le32(IWT_REV_DYNAMIC);	/* creator OS 0: Linux */
	sb->s_first_ino = cpu_to_le32(IWT_LPF_INO);
	sb->s_inode_size = cpu_to_le16(IWT_INODE_SIZE);
	sb->s_block_group_nr = cpu_to_le16(g);
	sb->s_feature_compat = cpu_to_le32(compat);
	sb->s_feature_incompat = cpu_to_le32(IWT_INCOMPAT_FILETYPE |
					     IWT_INCOMPAT_EXTENTS);
	sb->s_feature_ro_compat = cpu_to_le32(ro_compat);
	memcpy(sb->s_uuid, fs->uuid, sizeof(sb->s_uuid));
	memcpy(sb->s_hash_seed, fs->hash_seed, sizeof(sb->s_hash_seed));
	sb->s_def_hash_version = IWT_HASH_HALF_MD4;
	sb->s_mkfs_time = cpu_to_le32(IWT_TIME);
	sb->s_min_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	sb->s_want_extra_isize = cpu_to_le16(IWT_EXTRA_ISIZE);
	sb->s_flags = cpu_to_le32(IWT_FLAGS_SIGNED_HASH);
}

/* Block @index of the group descriptor table. */
static void iwt_fill_gdt(const struct iwt_fs *fs, u32 index,
			 struct iwt_group_desc *gd)
{
	u32 per_block = fs->bs / IWT_DESC_SIZE;
	u32 g = index * per_block;
	const struct iwt_group *grp;

	for (; g < fs->groups && g < (index + 1) * per_block; g++, gd++) {
		grp = &fs->grp[g];
		gd->bg_block_bitmap = cpu_to_le32(grp->block_bitmap);
		gd->bg_inode_bitmap = cpu_to_le32(grp->inode_bitmap);
		gd->bg_inode_table = cpu_to_le32(grp->inode_table);
		gd->bg_free_clusters = cpu_to_le16(grp->free_clusters);
		gd->bg_free_inodes = cpu_to_le16(grp->free_inodes);
		gd->bg_used_dirs = cpu_to_le16(grp->used_dirs);
		/* written zeroed: keeps the kernel's lazy itable init idle */
		gd->bg_flags = cpu_to_le16(IWT_BG_INODE_ZEROED);
	}
}

/* Block @index of group @g's inode table. */
static void iwt_fill_inode_table(const struct iwt_fs *fs, u32 g, u32 index,
				 u8 *buf)
{
	u32 per_block = fs->bs / IWT_INODE_SIZE;
	u32 first = g * fs->ipg + index * per_block + 1;
	u32 i;

	for (i = 0; i < per_block; i++)
		iwt_fill_inode(fs, first + i,
			       (struct iwt_inode *)(buf + i * IWT_INODE_SIZE));
}

static u32 iwt_add_dirent(u8 *buf, u32 off, u32 ino, u32 rec_len,
			  const char *name)
{
	struct iwt_dirent *de = (struct iwt_dirent *)(buf + off);

	de->inode = cpu_to_le32(ino);
	de->rec_len = cpu_to_le16(rec_len);
	de->name_len = strlen(name);
	de->file_type = IWT_FT_DIR;
	memcpy(de->name, name, de->name_len);
	return off + rec_len;
}

/* The only block of the root directory or of lost+found. */
static void iwt_fill_dir(const struct iwt_fs *fs, u32 ino, u8 *buf)
{
	u32 off = iwt_add_dirent(buf, 0, ino, 12, ".");

	if (ino == IWT_ROOT_INO) {
		off = iwt_add_dirent(buf, off, IWT_ROOT_INO, 12, "..");
		iwt_add_dirent(buf, off, IWT_LPF_INO, fs->bs - off, "lost+found");
	} else {
		iwt_add_dirent(buf, off, IWT_ROOT_INO, fs->bs - off, "..");
	}
}

static void iwt_fill_journal_super(const struct iwt_fs *fs,
				   struct iwt_jbd2_super *jsb)
{
	jsb->h_magic = cpu_to_be32(IWT_JBD2_MAGIC);
	jsb->h_blocktype = cpu_to_be32(IWT_JBD2_SUPERBLOCK_V2);
	jsb->s_blocksize = cpu_to_be32(fs->bs);
	jsb->s_maxlen = cpu_to_be32(fs->journal.len);
	jsb->s_first = cpu_to_be32(1);
	jsb->s_sequence = cpu_to_be32(1);
	memcpy(jsb->s_uuid, fs->uuid, sizeof(jsb->s_uuid));
	jsb->s_nr_users = cpu_to_be32(1);
}

/* Fill the zeroed @buf with the contents of block @blk. */
static void iwt_fill_block(const struct iwt_fs *fs, u32 blk, u8 *buf)
{
	const struct iwt_group *grp;
	u32 g;

	if (blk < fs->first_data_block)
		return;			/* 1k boot block */
	g = (blk - fs->first_data_block) / fs->bpg;
	grp = &fs->grp[g];
	if (grp->has_super && blk == grp->sb)
		iwt_fill_super(fs, g, (struct iwt_super *)
			       (buf + (g ? 0 : IWT_SB_OFFSET % fs->bs)));
	else if (grp->has_super && blk > grp->sb &&
		 blk <= grp->sb + fs->gdt_blocks)
		iwt_fill_gdt(fs, blk - grp->sb - 1, (struct iwt_group_desc *)buf);
	else if (blk == grp->block_bitmap)
		iwt_fill_block_bitmap(fs, g, buf);
	else if (blk == grp->inode_bitmap)
		iwt_fill_inode_bitmap(fs, g, buf);
	else if (blk >= grp->inode_table &&
		 blk < grp->inode_table + fs->itable_blocks)
		iwt_fill_inode_table(fs, g, blk - grp->inode_table, buf);
	else if (blk == fs->root.start)
		iwt_fill_dir(fs, IWT_ROOT_INO, buf);
	else if (blk == fs->lpf.start)
		iwt_fill_dir(fs, IWT_LPF_INO, buf);
	else if (fs->journal.len && blk == fs->journal.start)
		iwt_fill_journal_super(fs, (struct iwt_jbd2_super *)buf);
}

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
 * @p->cluster_ratio > 1 and has_journal when @p->journal.  Only the root
 * directory and lost+found exist.  Every group is fully initialised and
 * flagged INODE_ZEROED: there is no uninit_bg, flex_bg, 64bit or
 * metadata_csum.
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
