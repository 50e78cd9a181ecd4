// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of what ext4's buffered write paths do when a write comes up
 * short or fails.
 *
 * Every case formats a fresh ext4 onto a brd ramdisk with the formatter in
 * iomap_write_test_mkfs.c, mounts it through the normal mount API, drives
 * real buffered writes from user memory (kunit_vm_mmap()) through
 * vfs_iter_write(), and checks delayed-allocation counters, block states,
 * i_size and the data. Resources are released by KUnit actions, so a case
 * that fails an assertion halfway still unmounts and wipes its ramdisk.
 *
 * The cases run on each buffered write path the tree has: buffer_head
 * always, and iomap where Zhang Yi's series ("ext4: use iomap for regular
 * file's buffered I/O path") adds the buffered_iomap mount option.
 */

#include <kunit/test.h>
#include <kunit/resource.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/fiemap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kmod.h>
#include <linux/major.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/panic.h>
#include <linux/percpu_counter.h>
#include <linux/uio.h>
#include <linux/version.h>

#include "ext4.h"
#include "iomap_write_test_mkfs.h"

/* brd's /dev/ram0; the ramdisk size is CONFIG_BLK_DEV_RAM_SIZE. */
#define IWT_RAMDISK		MKDEV(RAMDISK_MAJOR, 0)
#define IWT_NODE		"/ext4-iwt-ram0"
#define IWT_FS_BYTES		(8ULL << 20)
#define IWT_FILE		"f"

/* --------------------------------------------------------------------
 * Version differences, all in one place.
 */

/* kern_path_create() became start_creating_path() in 6.18. */
static struct dentry *iwt_start_creating(const char *name, struct path *path)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	return start_creating_path(AT_FDCWD, name, path, 0);
#else
	return kern_path_create(AT_FDCWD, name, path, 0);
#endif
}

static void iwt_end_creating(struct path *path, struct dentry *dentry)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	end_creating_path(path, dentry);
#else
	done_path_create(path, dentry);
#endif
}

/* vfs_mknod() grew a delegated-inode argument in 6.19. */
static int iwt_mknod(struct inode *dir, struct dentry *dentry, dev_t dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFBLK | 0600, dev, NULL);
#else
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFBLK | 0600, dev);
#endif
}

/* ->generate_params() gained the test as first argument in 6.18. */
static const void *iwt_env_next(const void *prev, char *desc);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
static const void *iwt_env_gen(struct kunit *test, const void *prev,
			       char *desc)
{
	return iwt_env_next(prev, desc);
}
#else
static const void *iwt_env_gen(const void *prev, char *desc)
{
	return iwt_env_next(prev, desc);
}
#endif

/* --------------------------------------------------------------------
 * What a case runs on: a geometry and a write path.
 */

/**
 * struct iwt_geometry - one filesystem layout
 * @name: short name used in case names
 * @block_size: block size in bytes
 * @cluster_ratio: blocks per cluster (1: no bigalloc)
 * @journal: whether the filesystem has a jbd2 journal
 */
struct iwt_geometry {
	const char *name;
	unsigned int block_size;
	unsigned int cluster_ratio;
	bool journal;
};

static const struct iwt_geometry iwt_geometries[] = {
	{ "1k",		   1024,  1, true },
	{ "2k",		   2048,  1, true },
	{ "4k",		   4096,  1, true },
	{ "1k-nojournal",  1024,  1, false },
	{ "4k-nojournal",  4096,  1, false },
	{ "4k-bigalloc4",  4096,  4, true },
	{ "4k-bigalloc16", 4096, 16, false },
	{ "1k-bigalloc16", 1024, 16, true },
};

/**
 * enum iwt_path - the buffered write implementation a mount selects
 * @IWT_BH: the buffer_head path (ext4_da_aops / ext4_aops)
 * @IWT_IOMAP: the iomap path of Zhang Yi's series (buffered_iomap)
 */
enum iwt_path {
	IWT_BH,
	IWT_IOMAP,
};

/**
 * struct iwt_mode - how a case mounts the filesystem
 * @name: short name used in case names
 * @delalloc: delayed allocation (the default) or nodelalloc
 * @path: buffered write path to select
 */
struct iwt_mode {
	const char *name;
	bool delalloc;
	enum iwt_path path;
};

static const struct iwt_mode iwt_modes[] = {
	{ "delalloc",		true,  IWT_BH },
	{ "nodelalloc",		false, IWT_BH },
	{ "delalloc-iomap",	true,  IWT_IOMAP },
	{ "nodelalloc-iomap",	false, IWT_IOMAP },
};

/**
 * struct iwt_env - a case's parameter: a mode on a geometry
 * @mode: mount mode and write path
 * @geo: filesystem geometry
 */
struct iwt_env {
	const struct iwt_mode *mode;
	const struct iwt_geometry *geo;
};

static struct iwt_env iwt_envs[ARRAY_SIZE(iwt_modes) *
			       ARRAY_SIZE(iwt_geometries)];

static void iwt_init_envs(void)
{
	unsigned int m, g, i = 0;

	for (m = 0; m < ARRAY_SIZE(iwt_modes); m++)
		for (g = 0; g < ARRAY_SIZE(iwt_geometries); g++) {
			iwt_envs[i].mode = &iwt_modes[m];
			iwt_envs[i++].geo = &iwt_geometries[g];
		}
}

static const void *iwt_env_next(const void *prev, char *desc)
{
	const struct iwt_env *env = prev ? (const struct iwt_env *)prev + 1 :
					   iwt_envs;

	if (env >= iwt_envs + ARRAY_SIZE(iwt_envs))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s", env->mode->name,
		 env->geo->name);
	return env;
}

/* --------------------------------------------------------------------
 * The fixture: a formatted ramdisk, a mount, and their cleanup.
 */

/**
 * struct iwt_fs - one case's filesystem
 * @test: the running case
 * @env: mode and geometry
 * @layout: what the formatter made
 * @mnt: the mount, or NULL while unmounted
 * @sb: its superblock
 * @base_dirty: s_dirtyclusters_counter right after the first mount
 * @base_free: free clusters right after the first mount
 * @warned: whether TAINT_WARN was already set when the case started
 */
struct iwt_fs {
	struct kunit *test;
	const struct iwt_env *env;
	struct ext4_iwt_mkfs_layout layout;
	struct vfsmount *mnt;
	struct super_block *sb;
	s64 base_dirty;
	s64 base_free;
	bool warned;
};

static int iwt_mkfs_write(void *ctx, u64 offset, const void *buf, size_t len)
{
	loff_t pos = offset;
	ssize_t ret = kernel_write(ctx, buf, len, &pos);

	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

static struct file *iwt_open_ramdisk(struct kunit *test)
{
	struct file *bdev;

	bdev = bdev_file_open_by_dev(IWT_RAMDISK, BLK_OPEN_READ | BLK_OPEN_WRITE,
				     NULL, NULL);
	if (IS_ERR(bdev) && PTR_ERR(bdev) == -ENXIO) {
		request_module("brd");
		bdev = bdev_file_open_by_dev(IWT_RAMDISK,
					     BLK_OPEN_READ | BLK_OPEN_WRITE,
					     NULL, NULL);
	}
	if (IS_ERR(bdev))
		kunit_skip(test, "no brd ramdisk /dev/ram0 (%ld): needs BLK_DEV_RAM",
			   PTR_ERR(bdev));
	return bdev;
}

static void iwt_close(struct file *file)
{
	fput(file);
	/* A KUnit case is a kthread: its fput()s are deferred. */
	flush_delayed_fput();
}

/* Action: drop the ramdisk's pages, so the next case starts from nothing. */
static void iwt_wipe_ramdisk(void *unused)
{
	struct file *file = bdev_file_open_by_dev(IWT_RAMDISK,
						  BLK_OPEN_READ | BLK_OPEN_WRITE,
						  NULL, NULL);
	struct block_device *bdev;

	if (IS_ERR(file))
		return;
	bdev = file_bdev(file);
	invalidate_bdev(bdev);
	blkdev_issue_discard(bdev, 0, bdev_nr_sectors(bdev), GFP_KERNEL);
	iwt_close(file);
}

/**
 * iwt_format() - format the ramdisk for the case's geometry
 * @fs: the case's filesystem
 *
 * Every block of the new filesystem is written, so brd has allocated all
 * its backing pages before the case injects any fault.
 */
static void iwt_format(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	const struct iwt_geometry *geo = fs->env->geo;
	struct ext4_iwt_mkfs_params p = {
		.block_size = geo->block_size,
		.cluster_ratio = geo->cluster_ratio,
		.journal = geo->journal,
		.fs_bytes = IWT_FS_BYTES,
	};
	struct file *bdev = iwt_open_ramdisk(test);
	int ret;

	if (bdev_nr_bytes(file_bdev(bdev)) < IWT_FS_BYTES) {
		iwt_close(bdev);
		kunit_skip(test, "ramdisk smaller than %llu bytes: raise BLK_DEV_RAM_SIZE",
			   IWT_FS_BYTES);
	}
	ret = kunit_add_action_or_reset(test, iwt_wipe_ramdisk, NULL);
	if (ret) {
		iwt_close(bdev);
		KUNIT_FAIL_AND_ABORT(test, "cannot register the ramdisk wipe: %d", ret);
	}
	ret = ext4_iwt_mkfs(&p, iwt_mkfs_write, bdev, &fs->layout);
	if (!ret)
		ret = vfs_fsync(bdev, 0);
	invalidate_bdev(file_bdev(bdev));
	iwt_close(bdev);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "formatting %s failed", geo->name);
}

static const char *iwt_mount_options(const struct iwt_mode *mode)
{
	if (mode->path == IWT_IOMAP)
		return mode->delalloc ? "delalloc,buffered_iomap" :
					"nodelalloc,buffered_iomap";
	return mode->delalloc ? "delalloc" : "nodelalloc";
}

static struct vfsmount *iwt_kern_mount(const char *options)
{
	struct file_system_type *type = get_fs_type("ext4");
	struct vfsmount *mnt;
	char *data;

	if (!type)
		return ERR_PTR(-ENODEV);
	/* Mount options are parsed in place: pass a private copy. */
	data = kstrdup(options, GFP_KERNEL);
	mnt = data ? vfs_kern_mount(type, 0, IWT_NODE, data) : ERR_PTR(-ENOMEM);
	kfree(data);
	module_put(type->owner);
	return mnt;
}

static int iwt_make_node(void)
{
	struct path parent;
	struct dentry *dentry = iwt_start_creating(IWT_NODE, &parent);
	int ret;

	if (IS_ERR(dentry))
		return PTR_ERR(dentry);
	ret = iwt_mknod(d_inode(parent.dentry), dentry, IWT_RAMDISK);
	iwt_end_creating(&parent, dentry);
	return ret;
}

/**
 * iwt_unlink() - unlink what @path names
 * @path: a looked-up path, released here
 *
 * Return: what vfs_unlink() returned.
 */
static int iwt_unlink(struct path *path)
{
	struct dentry *parent = dget_parent(path->dentry);
	int ret;

	inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
	ret = vfs_unlink(&nop_mnt_idmap, d_inode(parent), path->dentry, NULL);
	inode_unlock(d_inode(parent));
	dput(parent);
	path_put(path);
	return ret;
}

static void iwt_remove_node(void)
{
	struct path path;

	if (!kern_path(IWT_NODE, 0, &path))
		iwt_unlink(&path);
}

/**
 * iwt_unmount() - unmount and wait until the superblock is shut down
 * @fs: the case's filesystem
 *
 * mntput() from a kthread defers the final put to a work item, so hold an
 * active reference across it and drop that one last, here: then
 * ext4_put_super() has run when this returns.
 */
static void iwt_unmount(struct iwt_fs *fs)
{
	struct super_block *sb = fs->sb;

	if (!fs->mnt)
		return;
	flush_delayed_fput();
	atomic_inc(&sb->s_active);
	mntput(fs->mnt);
	fs->mnt = NULL;
	fs->sb = NULL;
	while (atomic_read(&sb->s_active) > 1)
		msleep(1);
	deactivate_super(sb);
}

static void iwt_unmount_action(void *ctx)
{
	iwt_unmount(ctx);
}

static int iwt_try_mount(struct iwt_fs *fs, const char *options)
{
	struct vfsmount *mnt;
	int ret = iwt_make_node();

	if (ret)
		return ret;
	mnt = iwt_kern_mount(options);
	iwt_remove_node();
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	fs->mnt = mnt;
	fs->sb = mnt->mnt_sb;
	return 0;
}

/**
 * iwt_mount() - mount the ramdisk with the case's options
 * @fs: the case's filesystem
 *
 * An iomap mode on a tree without the series is skipped, with the reason.
 */
static void iwt_mount(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	const char *options = iwt_mount_options(fs->env->mode);
	int ret = iwt_try_mount(fs, options);

	if (ret == -EINVAL && fs->env->mode->path == IWT_IOMAP)
		kunit_skip(test, "no iomap buffered write path: mount option buffered_iomap rejected");
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "mount -o %s of %s", options,
			    fs->env->geo->name);
}

/* --------------------------------------------------------------------
 * Counters and states.
 */

static struct ext4_sb_info *iwt_sbi(struct iwt_fs *fs)
{
	return EXT4_SB(fs->sb);
}

static s64 iwt_dirty_clusters(struct iwt_fs *fs)
{
	return percpu_counter_sum(&iwt_sbi(fs)->s_dirtyclusters_counter);
}

static s64 iwt_free_clusters(struct iwt_fs *fs)
{
	return percpu_counter_sum(&iwt_sbi(fs)->s_freeclusters_counter);
}

/**
 * iwt_setup() - format, mount and take the baseline counters
 * @test: the running case
 *
 * Return: the case's filesystem, mounted; unmounted and wiped by actions.
 */
static struct iwt_fs *iwt_setup(struct kunit *test)
{
	struct iwt_fs *fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->test = test;
	fs->env = test->param_value;
	fs->warned = test_taint(TAINT_WARN);
	iwt_format(fs);
	iwt_mount(fs);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_unmount_action,
							fs), 0);
	fs->base_dirty = iwt_dirty_clusters(fs);
	fs->base_free = iwt_free_clusters(fs);
	KUNIT_EXPECT_EQ_MSG(test, fs->base_dirty, 0,
			    "s_dirtyclusters_counter of a fresh mount");
	KUNIT_EXPECT_EQ_MSG(test, fs->base_free, (s64)fs->layout.free_clusters,
			    "free clusters of a fresh mount vs the formatter's count");
	return fs;
}

/**
 * iwt_detect_path() - which write path an inode actually uses
 * @inode: a regular file of the mounted filesystem
 *
 * The buffer_head address_space_operations implement ->write_begin; the
 * iomap ones of the series leave it NULL and write through iomap_iter.
 */
static enum iwt_path iwt_detect_path(struct inode *inode)
{
	return inode->i_mapping->a_ops->write_begin ? IWT_BH : IWT_IOMAP;
}

static void iwt_close_action(void *file)
{
	iwt_close(file);
}

/**
 * iwt_open() - open (creating) a file at the root of the case's mount
 * @fs: the case's filesystem
 * @name: file name
 *
 * Also asserts that the inode runs on the write path the mode asked for.
 *
 * Return: the file; closed by an action.
 */
static struct file *iwt_open(struct iwt_fs *fs, const char *name)
{
	struct kunit *test = fs->test;
	struct file *file;

	file = file_open_root_mnt(fs->mnt, name, O_RDWR | O_CREAT | O_LARGEFILE,
				  0644);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "open %s: %d", name,
			       PTR_ERR_OR_ZERO(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_close_action,
							file), 0);
	KUNIT_ASSERT_EQ_MSG(test, iwt_detect_path(file_inode(file)),
			    fs->env->mode->path,
			    "write path of %s (0: buffer_head, 1: iomap)", name);
	return file;
}

/* --------------------------------------------------------------------
 * User memory and the write itself.
 */

static u8 iwt_pattern(loff_t pos, u8 seed)
{
	return (u8)(pos * 7 + (pos >> 9) + seed) | 1;
}

/**
 * iwt_user_buf() - user memory whose first @mapped bytes are readable
 * @test: the running case
 * @mapped: bytes that copy_from_user() may read
 * @pos: file position the buffer will be written to (sets the pattern)
 * @seed: pattern seed, so rewrites can be told from first writes
 *
 * The buffer ends exactly where an unmapped page begins, so a write of
 * more than @mapped bytes from it is a genuine short copy at byte @mapped.
 *
 * Return: the user address of the buffer's first byte.
 */
static unsigned long iwt_user_buf(struct kunit *test, size_t mapped,
				  loff_t pos, u8 seed)
{
	size_t len = round_up(mapped, PAGE_SIZE) + PAGE_SIZE;
	unsigned long base, start;
	size_t i;
	u8 *data;

	base = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, base, 0, "kunit_vm_mmap of %zu bytes", len);
	KUNIT_ASSERT_EQ(test, vm_munmap(base + len - PAGE_SIZE, PAGE_SIZE), 0);
	start = base + len - PAGE_SIZE - mapped;
	if (!mapped)
		return start;
	data = kunit_kmalloc(test, mapped, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	for (i = 0; i < mapped; i++)
		data[i] = iwt_pattern(pos + i, seed);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)start, data, mapped), 0);
	kunit_kfree(test, data);
	return start;
}

/**
 * iwt_write() - a buffered write from user memory, as write(2) does it
 * @file: the file
 * @ubuf: user address to copy from
 * @len: bytes asked for
 * @pos: file position
 *
 * vfs_iter_write() over an ITER_UBUF runs ->write_iter and its
 * copy_from_user() exactly as a system call does; kernel_write() would copy
 * from kernel memory and never fault.
 *
 * Return: what the write returned.
 */
static ssize_t iwt_write(struct file *file, unsigned long ubuf, size_t len,
			 loff_t pos)
{
	struct iov_iter iter;
	int ret = import_ubuf(ITER_SOURCE, (void __user *)ubuf, len, &iter);

	if (ret)
		return ret;
	return vfs_iter_write(file, &iter, &pos, 0);
}

/**
 * iwt_expect_data() - read back and compare with the pattern
 * @fs: the case's filesystem
 * @file: the file
 * @pos: first byte
 * @len: bytes
 * @seed: pattern seed the bytes were written with, or -1 for zeros
 * @when: what happened before, for the failure message
 */
static void iwt_expect_data(struct iwt_fs *fs, struct file *file, loff_t pos,
			    size_t len, int seed, const char *when)
{
	struct kunit *test = fs->test;
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL);
	loff_t rpos = pos;
	ssize_t ret;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	ret = kernel_read(file, buf, len, &rpos);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)len,
			    "read of %zu bytes at offset %lld %s", len, pos, when);
	for (i = 0; i < len; i++) {
		u8 want = seed < 0 ? 0 : iwt_pattern(pos + i, seed);

		if (buf[i] != want) {
			KUNIT_FAIL(test, "byte at offset %lld (block %lld) %s: expected 0x%02x, saw 0x%02x",
				   pos + i, (pos + i) >> fs->sb->s_blocksize_bits,
				   when, want, buf[i]);
			break;
		}
	}
	kunit_kfree(test, buf);
}

/**
 * iwt_expect_clean() - no ext4 error and no new WARN
 * @fs: the case's filesystem (mounted)
 */
static void iwt_expect_clean(struct iwt_fs *fs)
{
	struct ext4_sb_info *sbi = iwt_sbi(fs);

	KUNIT_EXPECT_FALSE_MSG(fs->test, sbi->s_mount_state & EXT4_ERROR_FS,
			       "ext4 recorded an error (s_mount_state 0x%x)",
			       sbi->s_mount_state);
	KUNIT_EXPECT_EQ_MSG(fs->test, le32_to_cpu(sbi->s_es->s_error_count), 0,
			    "s_error_count");
	if (!fs->warned)
		KUNIT_EXPECT_FALSE_MSG(fs->test, test_taint(TAINT_WARN),
				       "a WARN fired during the case");
}

/**
 * iwt_sync_and_forget() - write back, then make the inode go away
 * @fs: the case's filesystem
 * @file: the file, which is closed
 * @name: its name, which is unlinked
 *
 * After this every reservation of the file must have been released or
 * consumed, and its freed clusters returned to the free count.
 */
static void iwt_sync_and_forget(struct iwt_fs *fs, struct file *file,
				const char *name)
{
	struct kunit *test = fs->test;
	struct path path;
	int ret;

	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	kunit_release_action(test, iwt_close_action, file);
	KUNIT_ASSERT_EQ_MSG(test, vfs_path_lookup(fs->mnt->mnt_root, fs->mnt,
						  name, 0, &path), 0,
			    "lookup of %s", name);
	KUNIT_ASSERT_EQ_MSG(test, iwt_unlink(&path), 0, "unlink of %s", name);
	down_read(&fs->sb->s_umount);
	ret = sync_filesystem(fs->sb);
	up_read(&fs->sb->s_umount);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

/* --------------------------------------------------------------------
 * The cases.
 */

/*
 * The fixture end to end: a full write, a genuine short append (tail of
 * the source unmapped mid-block), fsync, data, and every counter back to
 * the fresh mount's once the file is gone.
 */
static void iwt_fixture_roundtrip(struct kunit *test)
{
	struct iwt_fs *fs = iwt_setup(test);
	unsigned int bs = fs->env->geo->block_size;
	size_t full = 3 * bs + 100, part = bs / 2 + 7;
	struct file *file = iwt_open(fs, IWT_FILE);
	unsigned long ubuf;
	ssize_t ret;

	ubuf = iwt_user_buf(test, full, 0, 1);
	ret = iwt_write(file, ubuf, full, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)full, "full write at offset 0");

	/* Ask for two more blocks than the source has: a real short copy. */
	ubuf = iwt_user_buf(test, part, full, 1);
	ret = iwt_write(file, ubuf, part + 2 * bs, full);
	KUNIT_EXPECT_EQ_MSG(test, ret, (ssize_t)part,
			    "short append at offset %zu, source unmapped after %zu bytes",
			    full, part);
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(file)),
			    (loff_t)(full + part), "i_size after the short append");
	iwt_expect_data(fs, file, 0, full + part, 1, "after the short append");

	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(file_inode(file))->i_disksize,
			    (loff_t)(full + part), "i_disksize after fsync");
	iwt_expect_data(fs, file, 0, full + part, 1, "after fsync");

	iwt_sync_and_forget(fs, file, IWT_FILE);
	KUNIT_EXPECT_EQ_MSG(test, iwt_dirty_clusters(fs), fs->base_dirty,
			    "s_dirtyclusters_counter once the file is gone");
	KUNIT_EXPECT_EQ_MSG(test, iwt_free_clusters(fs), fs->base_free,
			    "free clusters once the file is gone");
	iwt_expect_clean(fs);
}

static int iwt_suite_init(struct kunit_suite *suite)
{
	iwt_init_envs();
	return 0;
}

static struct kunit_case iwt_cases[] = {
	KUNIT_CASE_PARAM(iwt_fixture_roundtrip, iwt_env_gen),
	{}
};

static struct kunit_suite iwt_suite = {
	.name = "ext4_iomap_write",
	.suite_init = iwt_suite_init,
	.test_cases = iwt_cases,
};

kunit_test_suite(iwt_suite);

MODULE_DESCRIPTION("KUnit tests of ext4 short buffered writes");
MODULE_LICENSE("GPL");
