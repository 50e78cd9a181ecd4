/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels the iomap write KUnit test runs on
 * (6.12 LTS and 7.x), all in one place. A submission upstream drops this
 * file and keeps the newest branch of each helper.
 */
#ifndef _EXT4_IOMAP_WRITE_TEST_COMPAT_H
#define _EXT4_IOMAP_WRITE_TEST_COMPAT_H

#include <kunit/test.h>
#include <linux/crc32.h>
#include <linux/crc32c.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/namei.h>
#include <linux/version.h>

/* kern_path_create() became start_creating_path() in 6.18. */
static inline struct dentry *iwt_start_creating(const char *name,
						struct path *path)
{
#if KERNEL_VERSION(6, 18, 0) <= LINUX_VERSION_CODE
	return start_creating_path(AT_FDCWD, name, path, 0);
#else
	return kern_path_create(AT_FDCWD, name, path, 0);
#endif
}

static inline void iwt_end_creating(struct path *path, struct dentry *dentry)
{
#if KERNEL_VERSION(6, 18, 0) <= LINUX_VERSION_CODE
	end_creating_path(path, dentry);
#else
	done_path_create(path, dentry);
#endif
}

/* vfs_mknod() grew a delegated-inode argument in 6.19. */
static inline int iwt_mknod(struct inode *dir, struct dentry *dentry, dev_t dev)
{
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFBLK | 0600, dev, NULL);
#else
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFBLK | 0600, dev);
#endif
}

/*
 * ->generate_params() is passed the test since 6.18, which also brought
 * KUNIT_CASE_PARAM_WITH_INIT(): IWT_GEN_ARGS is its parameter list,
 * IWT_GEN_CALL() calls another generator with the same arguments, and
 * IWT_GEN_FWD() passes a generator and those arguments to a helper.
 */
#ifdef KUNIT_CASE_PARAM_WITH_INIT
#define IWT_GEN_ARGS	struct kunit *test, const void *prev, char *desc
#define IWT_GEN_CALL(gen)	gen(test, prev, desc)
#define IWT_GEN_FWD(fn, gen)	fn(gen, test, prev, desc)
#else
#define IWT_GEN_ARGS	const void *prev, char *desc
#define IWT_GEN_CALL(gen)	gen(prev, desc)
#define IWT_GEN_FWD(fn, gen)	fn(gen, prev, desc)
#endif

/*
 * From 7.3 a kthread, such as a KUnit case, resolves paths in a nullfs
 * root: the device node and the mount's source are looked up from init's
 * root instead, for as long as the case needs them.
 */
static inline struct fs_struct *iwt_use_init_fs(void)
{
#ifdef scoped_with_init_fs
	return __override_init_fs();
#else
	return NULL;
#endif
}

static inline void iwt_restore_fs(struct fs_struct *old_fs)
{
#ifdef scoped_with_init_fs
	__revert_init_fs(old_fs);
#endif
}

/*
 * crc32c() as ext4 and jbd2 use it (seeded, no final inversion). Before
 * lib/crc32 took the name over, <linux/crc32c.h> declared libcrc32c's,
 * which ext4 does not select, and lib/crc32's was __crc32c_le().
 */
static inline u32 iwt_crc32c(u32 crc, const void *p, size_t len)
{
#ifdef crc32c_le
	return __crc32c_le(crc, p, len);
#else
	return crc32c(crc, p, len);
#endif
}

/*
 * How many file error reports (fserror_report()) wait for their work
 * item, each holding a reference to its inode: an unlinked file they name
 * is evicted, and its blocks freed, only once they have run. 7.2 has
 * fserror, 6.12 has none; the releases between are not run here, so they
 * are taken to have none.
 */
static inline unsigned int iwt_error_reports_queued(struct super_block *sb)
{
#if KERNEL_VERSION(7, 2, 0) <= LINUX_VERSION_CODE
	/* Biased by one while mounted (fserror_mount()). */
	return refcount_read(&sb->s_pending_errors) - 1;
#else
	return 0;
#endif
}

/*
 * The running kernel's version, for the first affected release of each
 * known issue; upstream, the rows name releases and this goes away.
 */
static inline u32 iwt_kernel_version(void)
{
	return LINUX_VERSION_CODE;
}

#endif /* _EXT4_IOMAP_WRITE_TEST_COMPAT_H */
