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
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/fadvise.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/glob.h>
#include <linux/fs_context.h>
#include <linux/iomap.h>
#include <linux/kmod.h>
#include <linux/kthread.h>
#include <linux/major.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/panic.h>
#include <linux/percpu_counter.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/tracepoint.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <trace/events/printk.h>

#include "ext4.h"
#include "ext4_extents.h"
#include "iomap_write_test_mkfs.h"
#include "iomap_write_test_compat.h"

/* Room for the cases' files beside the journal, if any. */
#define IWT_DATA_BYTES		(2ULL << 20)
#define IWT_FILE		"f"
/* What freed pages hold, so that data nobody wrote cannot pass for zeros. */
#define IWT_POISON		0xa5

static char *plant = "";
module_param(plant, charp, 0444);
MODULE_PARM_DESC(plant,
		 "harness self-tests only: \"fail\" fails the first round-trip case midway; \"warn\" WARNs in the first two; \"swap-paths\" holds each write path to the other's semantics");

static char *known = "report";
module_param(known, charp, 0444);
MODULE_PARM_DESC(known,
		 "\"report\" (default): a case that meets a known kernel issue on its exact signature is skipped with \"known-issue:<id>\"; \"fail\": it fails (strict mode, for git bisect)");

static char *cases = "";
module_param(cases, charp, 0444);
MODULE_PARM_DESC(cases,
		 "run only the parameter cases whose name (e.g. \"delalloc/1k/append/fault@mid-block\") matches this glob; empty: all");

/*
 * The suite makes a brd disk of its own: brd creates one when a minor it
 * does not have is first opened. The default is a multiple of 256, brd's
 * largest max_part, so that it is a whole disk however brd was loaded, and
 * far above the disks brd makes at load (rd_nr).
 */
static unsigned int brd_minor = 0xe4000;
module_param(brd_minor, uint, 0444);
MODULE_PARM_DESC(brd_minor,
		 "minor of the brd disk the suite makes and formats (a whole disk: a multiple of brd's max_part); if a disk there is in use or holds data, it is left alone and the cases skip");

static bool iwt_planted(const char *what)
{
	return plant && !strcmp(plant, what);
}

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

static const void *iwt_env_gen(IWT_GEN_ARGS)
{
	const struct iwt_env *env = prev ? (const struct iwt_env *)prev + 1 :
					   iwt_envs;

	if (env >= iwt_envs + ARRAY_SIZE(iwt_envs))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s", env->mode->name,
		 env->geo->name);
	return env;
}

/**
 * iwt_max_folio_size() - the largest folio the page cache may give a mapping
 * @mapping: the file's mapping
 *
 * Return: its size in bytes.
 */
static loff_t iwt_max_folio_size(struct address_space *mapping)
{
	return (loff_t)PAGE_SIZE << mapping_max_folio_order(mapping);
}

/**
 * iwt_new_folio_size() - the folio a buffered write gets where the page
 *	cache holds none
 * @mapping: the file's mapping
 * @pos: where the write is
 * @left: bytes it still has to write
 *
 * The write asks ->write_begin() for at most the rest of the largest folio
 * the mapping allows (generic_perform_write(), iomap_write_iter()); the
 * page cache creates a folio of the order that length suggests
 * (fgf_set_order()), no larger than the mapping allows and aligned to its
 * own size (__filemap_get_folio()). Short of memory it falls back to a
 * smaller one, so this is an upper bound.
 *
 * Return: the folio's size in bytes.
 */
static loff_t iwt_new_folio_size(struct address_space *mapping, loff_t pos,
				 size_t left)
{
	loff_t chunk = iwt_max_folio_size(mapping);
	size_t len = min_t(loff_t, left, chunk - (pos & (chunk - 1)));
	unsigned int order = len > PAGE_SIZE ? ilog2(len) - PAGE_SHIFT : 0;
	pgoff_t index = pos >> PAGE_SHIFT;

	order = min(order, mapping_max_folio_order(mapping));
	if (index & ((1UL << order) - 1))
		order = __ffs(index);
	return (loff_t)PAGE_SIZE << order;
}

/**
 * iwt_whole_folio_stop() - where a write stops that needs the space of
 *	each folio whole
 * @mapping: the file's mapping
 * @pos: write position
 * @len: bytes asked for
 * @fits: bytes from @pos there is space for
 * @folio: set to the size of the folio it stops at
 *
 * Return: bytes from @pos to the first folio that does not fit whole
 * (@len when all of them fit).
 */
static size_t iwt_whole_folio_stop(struct address_space *mapping, loff_t pos,
				   size_t len, s64 fits, loff_t *folio)
{
	loff_t at, next, end = pos + len;

	for (at = pos; at < end; at = next) {
		*folio = iwt_new_folio_size(mapping, at, end - at);
		next = min(round_down(at, *folio) + *folio, end);
		if (next - pos > fits)
			break;
	}
	return at - pos;
}

/**
 * iwt_folio_span() - the page-cache folio that holds a byte
 * @mapping: the file's mapping
 * @pos: the byte
 * @start: set to the folio's first byte
 *
 * With large folios (x86_64 with THP) the page cache picks each folio's
 * order from the write's length, its alignment and what it can allocate,
 * so the folio a write went through is looked up, not computed. Where the
 * cache holds none, the largest the mapping may have is assumed.
 *
 * Return: the folio's size in bytes.
 */
static loff_t iwt_folio_span(struct address_space *mapping, loff_t pos,
			     loff_t *start)
{
	struct folio *folio = filemap_get_folio(mapping, pos >> PAGE_SHIFT);
	loff_t size;

	if (IS_ERR(folio)) {
		size = iwt_max_folio_size(mapping);
		*start = round_down(pos, size);
		return size;
	}
	*start = folio_pos(folio);
	size = folio_size(folio);
	folio_put(folio);
	return size;
}

/**
 * iwt_first_folio_room() - bytes from a write's position to the end of the
 *	folio its first copy went to
 * @mapping: the file's mapping
 * @pos: write position
 * @asked: bytes the write asked for
 *
 * Looked up after the write when the page cache holds a folio at @pos that
 * took data (uptodate or dirty). A folio that a rejected short copy left
 * !uptodate was truncated when the retry failed, and one still there is
 * the retry's, asked for fewer bytes: then the first copy went to the folio
 * the page cache creates for the write (iwt_new_folio_size(), an upper
 * bound).
 *
 * Return: the bytes.
 */
static size_t iwt_first_folio_room(struct address_space *mapping, loff_t pos,
				   size_t asked)
{
	struct folio *folio = filemap_get_folio(mapping, pos >> PAGE_SHIFT);
	loff_t size;

	if (!IS_ERR(folio)) {
		bool took = folio_test_uptodate(folio) || folio_test_dirty(folio);
		loff_t end = folio_pos(folio) + folio_size(folio);

		folio_put(folio);
		if (took)
			return end - pos;
	}
	size = iwt_new_folio_size(mapping, pos, asked);
	return round_down(pos, size) + size - pos;
}

/* --------------------------------------------------------------------
 * The fixture: a formatted ramdisk, a mount, and their cleanup.
 */

/**
 * struct iwt_fs - one case's filesystem
 * @test: the running case
 * @env: mode and geometry, as the writes see them (see @nonda)
 * @nonda: the case's environment with the nodelalloc twin of its mode,
 *	when ext4_nonda_switch() turns all its delalloc writes into that
 * @mounted: mode and geometry as mounted (the case's parameter)
 * @layout: what the formatter made
 * @mnt: the mount, or NULL while unmounted
 * @sb: its superblock
 * @base_dirty: s_dirtyclusters_counter right after the first mount
 * @base_free: free clusters right after the first mount
 * @warned: whether TAINT_WARN was already set when the case started
 * @warnings: console WARNINGs of the case already reported
 * @known: bit mask of &enum iwt_ki the case ran into
 * @scratch: a user page for ioctl and fiemap results
 * @data_bytes: room the formatter leaves for the cases' files
 */
struct iwt_fs {
	struct kunit *test;
	const struct iwt_env *env;
	struct iwt_env nonda;
	const struct iwt_env *mounted;
	struct ext4_iwt_mkfs_layout layout;
	struct vfsmount *mnt;
	struct super_block *sb;
	s64 base_dirty;
	s64 base_free;
	bool warned;
	unsigned int warnings;
	unsigned long known;
	unsigned long scratch;
	u64 data_bytes;
};

/* --------------------------------------------------------------------
 * The kernel's console during a case: WARNs, ext4's messages and the call
 * traces of injected faults, captured through the console tracepoint as
 * mm/kfence/kfence_test.c captures its reports.
 */

#define IWT_CONSOLE_SIZE	16384

/**
 * struct iwt_console - what the kernel logged since the capture began
 * @lock: serialises the probe against readers
 * @on: capturing
 * @len: bytes in @buf
 * @warnings: lines starting "WARNING: " (WARN*(), lockdep) since the case
 *	began
 * @buf: the lines, NUL-terminated
 */
struct iwt_console {
	spinlock_t lock;	/* the probe runs in printk's context */
	bool on;
	size_t len;
	unsigned int warnings;
	char buf[IWT_CONSOLE_SIZE];
};

static struct iwt_console iwt_console = {
	.lock = __SPIN_LOCK_UNLOCKED(iwt_console.lock),
};

#ifdef CONFIG_TRACEPOINTS
static void iwt_probe_console(void *ignore, const char *text, size_t len)
{
	struct iwt_console *c = &iwt_console;
	unsigned long flags;
	size_t n;

	spin_lock_irqsave(&c->lock, flags);
	if (c->on) {
		if (len >= 9 && !memcmp(text, "WARNING: ", 9))
			c->warnings++;
		n = min(len, sizeof(c->buf) - 1 - c->len);
		memcpy(c->buf + c->len, text, n);
		c->len += n;
		if (c->len < sizeof(c->buf) - 1)
			c->buf[c->len++] = '\n';
		c->buf[c->len] = 0;
	}
	spin_unlock_irqrestore(&c->lock, flags);
}
#endif

/**
 * iwt_console_clear() - forget the captured text (not the WARN count)
 */
static void iwt_console_clear(void)
{
	unsigned long flags;

	spin_lock_irqsave(&iwt_console.lock, flags);
	iwt_console.len = 0;
	iwt_console.buf[0] = 0;
	spin_unlock_irqrestore(&iwt_console.lock, flags);
}

static void iwt_console_stop(void *unused)
{
	unsigned long flags;

	spin_lock_irqsave(&iwt_console.lock, flags);
	iwt_console.on = false;
	spin_unlock_irqrestore(&iwt_console.lock, flags);
}

/**
 * iwt_console_start() - capture the console for the rest of the case
 * @test: the running case
 */
static void iwt_console_start(struct kunit *test)
{
	unsigned long flags;

	spin_lock_irqsave(&iwt_console.lock, flags);
	iwt_console.len = 0;
	iwt_console.buf[0] = 0;
	iwt_console.warnings = 0;
	iwt_console.on = IS_ENABLED(CONFIG_TRACEPOINTS);
	spin_unlock_irqrestore(&iwt_console.lock, flags);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_console_stop,
							NULL), 0);
}

/**
 * iwt_expect_no_warn() - no WARN since the last look
 * @fs: the case's filesystem
 *
 * Counted per case from the console; without tracepoints only the first
 * WARN of the boot can be seen (TAINT_WARN), and the case says so.
 */
static void iwt_expect_no_warn(struct iwt_fs *fs)
{
	unsigned int seen = READ_ONCE(iwt_console.warnings);
	const char *line;

	if (!IS_ENABLED(CONFIG_TRACEPOINTS)) {
		if (!fs->warned)
			KUNIT_EXPECT_FALSE_MSG(fs->test, test_taint(TAINT_WARN),
					       "a WARN fired during the case");
		return;
	}
	if (seen == fs->warnings)
		return;
	line = strstr(iwt_console.buf, "WARNING: ");
	KUNIT_FAIL(fs->test, "%u WARNING(s) logged during the case, expected none; first: %.200s",
		   seen - fs->warnings, line ?: "(no longer in the capture)");
	fs->warnings = seen;
}

static int iwt_mkfs_write(void *ctx, u64 offset, const void *buf, size_t len)
{
	loff_t pos = offset;
	ssize_t ret = kernel_write(ctx, buf, len, &pos);

	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

/**
 * struct iwt_ramdisk - the suite's own brd disk
 * @dev: its device number (brd_minor)
 * @name: its disk name, as devtmpfs and ext4's messages show it
 * @source: the block-device node that mounts name as their source
 * @make_node: @source is the suite's own node in the boot-time rootfs,
 *	made for each mount and removed after it
 * @skip: why the cases cannot use the disk, NULL when they can
 * @err: the error behind @skip, if any
 * @checked: iwt_ramdisk_claim() has run in this run of the suite
 */
struct iwt_ramdisk {
	bool checked;
	dev_t dev;
	char name[DISK_NAME_LEN];
	char source[DISK_NAME_LEN + 16];
	bool make_node;
	const char *skip;
	long err;
};

static struct iwt_ramdisk iwt_rd;

/* Holder of our exclusive opens of the ramdisk. */
static char iwt_holder;

static struct file *iwt_bdev_open(void)
{
	struct file *bdev;

	bdev = bdev_file_open_by_dev(iwt_rd.dev, BLK_OPEN_READ | BLK_OPEN_WRITE,
				     &iwt_holder, NULL);
	if (IS_ERR(bdev) && PTR_ERR(bdev) == -ENXIO) {
		request_module("brd");
		bdev = bdev_file_open_by_dev(iwt_rd.dev,
					     BLK_OPEN_READ | BLK_OPEN_WRITE,
					     &iwt_holder, NULL);
	}
	return bdev;
}

static void iwt_close(struct file *file)
{
	fput(file);
	/* A KUnit case is a kthread: its fput()s are deferred. */
	flush_delayed_fput();
}

/**
 * iwt_bdev_blank() - whether every byte of a block device reads as zero
 * @bdev: the device, open for reading
 *
 * A disk that brd has just made holds no page and reads as zeros; a
 * filesystem or any other data on it does not. Reading leaves the bytes
 * as they are, and the page cache it filled is dropped.
 *
 * Return: 1 when blank, 0 when not, or a negative errno.
 */
static int iwt_bdev_blank(struct file *bdev)
{
	size_t len = EXT4_IWT_MKFS_CHUNK;
	void *buf = kmalloc(len, GFP_KERNEL);
	loff_t pos = 0, end = bdev_nr_bytes(file_bdev(bdev));
	int ret = 1;

	if (!buf)
		return -ENOMEM;
	while (ret == 1 && pos < end) {
		ssize_t got = kernel_read(bdev, buf, min_t(loff_t, len, end - pos),
					  &pos);

		if (got <= 0)
			ret = got ? got : -EIO;
		else if (memchr_inv(buf, 0, got))
			ret = 0;
	}
	kfree(buf);
	invalidate_bdev(file_bdev(bdev));
	return ret;
}

/**
 * iwt_ramdisk_source() - choose the node the mounts name
 *
 * ext4 looks its source up by path. Where devtmpfs has a node for the
 * disk (/dev on a running system), that is used and nothing is made. At
 * boot, before the root filesystem is mounted, the root is the kernel's
 * own rootfs: the suite makes a node there for each mount. Anywhere else
 * it makes none, so that it never writes to a real filesystem.
 *
 * Return: NULL, or why the cases cannot mount the disk.
 */
static const char *iwt_ramdisk_source(void)
{
	struct fs_struct *old_fs = iwt_use_init_fs();
	const char *skip = NULL;
	struct path path;

	snprintf(iwt_rd.source, sizeof(iwt_rd.source), "/dev/%s", iwt_rd.name);
	if (!kern_path(iwt_rd.source, LOOKUP_FOLLOW, &path)) {
		struct inode *inode = d_backing_inode(path.dentry);
		bool node = S_ISBLK(inode->i_mode) && inode->i_rdev == iwt_rd.dev;

		path_put(&path);
		if (node)
			goto out;
	}
	get_fs_root(current->fs, &path);
	if (!strcmp(path.mnt->mnt_sb->s_type->name, "rootfs")) {
		snprintf(iwt_rd.source, sizeof(iwt_rd.source), "/ext4-iwt-%s",
			 iwt_rd.name);
		iwt_rd.make_node = true;
	} else {
		skip = "has no node in /dev (devtmpfs); none is made on a real root";
	}
	path_put(&path);
out:
	iwt_restore_fs(old_fs);
	return skip;
}

/**
 * iwt_ramdisk_claim() - make the suite's brd disk and check it is its own
 *
 * Run once, by the first case that needs the disk: a case's kthread
 * closes files at once, the task that runs suite_init() may not before it
 * returns to user space. The disk at brd_minor is used only if
 * nobody holds it and it reads as all zeros, as a disk brd has just made
 * does; otherwise every case that needs it skips, and it is never
 * written, formatted or discarded.
 */
static void iwt_ramdisk_claim(void)
{
	struct file *bdev;
	int blank;

	memset(&iwt_rd, 0, sizeof(iwt_rd));
	iwt_rd.checked = true;
	iwt_rd.dev = MKDEV(RAMDISK_MAJOR, brd_minor);
	snprintf(iwt_rd.name, sizeof(iwt_rd.name), "%u:%u", RAMDISK_MAJOR,
		 brd_minor);
	bdev = iwt_bdev_open();
	if (IS_ERR(bdev)) {
		iwt_rd.err = PTR_ERR(bdev);
		iwt_rd.skip = iwt_rd.err == -EBUSY ? "is in use by someone else" :
			      "cannot be made: needs BLK_DEV_RAM";
		return;
	}
	strscpy(iwt_rd.name, file_bdev(bdev)->bd_disk->disk_name);
	blank = iwt_bdev_blank(bdev);
	iwt_close(bdev);
	if (blank < 0) {
		iwt_rd.err = blank;
		iwt_rd.skip = "cannot be read";
	} else if (!blank) {
		iwt_rd.skip = "holds data, so it is not the suite's";
	} else {
		iwt_rd.skip = iwt_ramdisk_source();
	}
}

/**
 * iwt_open_ramdisk() - claim the ramdisk exclusively
 * @test: the running case
 *
 * The exclusive claim doubles as the isolation check: it fails with
 * -EBUSY while an earlier case's filesystem still holds the ramdisk.
 *
 * Return: the open ramdisk; the case is skipped when the suite has none.
 */
static struct file *iwt_open_ramdisk(struct kunit *test)
{
	struct file *bdev;

	if (!iwt_rd.checked)
		iwt_ramdisk_claim();
	if (iwt_rd.skip && iwt_rd.err)
		kunit_skip(test, "brd disk %s (minor %u) %s (%ld): left alone",
			   iwt_rd.name, brd_minor, iwt_rd.skip, iwt_rd.err);
	if (iwt_rd.skip)
		kunit_skip(test, "brd disk %s (minor %u) %s: left alone",
			   iwt_rd.name, brd_minor, iwt_rd.skip);
	bdev = iwt_bdev_open();
	if (IS_ERR(bdev))
		KUNIT_FAIL_AND_ABORT(test, "%s cannot be claimed (%ld): %s",
				     iwt_rd.name, PTR_ERR(bdev),
				     "an earlier case left it mounted?");
	return bdev;
}

/* Action: drop the ramdisk's pages, so the next case starts from nothing. */
static void iwt_wipe_ramdisk(void *unused)
{
	struct file *file = iwt_bdev_open();
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
		/* As mke2fs makes them; the write path sets inode checksums. */
		.metadata_csum = true,
		.fs_bytes = fs->data_bytes,
	};
	struct file *bdev = iwt_open_ramdisk(test);
	int ret;

	/* Small filesystems format, prime and mount quickly. */
	if (geo->journal)
		p.fs_bytes += (u64)EXT4_IWT_MKFS_MIN_JOURNAL * geo->block_size;
	if (bdev_nr_bytes(file_bdev(bdev)) < p.fs_bytes) {
		iwt_close(bdev);
		kunit_skip(test, "ramdisk smaller than %llu bytes: raise BLK_DEV_RAM_SIZE",
			   p.fs_bytes);
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

/* Whether ext4 takes buffered_iomap: the tree has Zhang Yi's series. */
static bool iwt_have_iomap;

/**
 * iwt_probe_iomap() - does ext4's mount-option parser know buffered_iomap?
 *
 * Asks the parser alone, on a fresh fs_context, so that a mount failing
 * for any other reason can never pass for a tree without the iomap path.
 *
 * Return: true when the option is accepted.
 */
static bool iwt_probe_iomap(void)
{
	struct file_system_type *type = get_fs_type("ext4");
	char option[] = "buffered_iomap";
	struct fs_context *fc;
	bool ok = false;

	if (!type)
		return false;
	fc = fs_context_for_mount(type, 0);
	if (!IS_ERR(fc)) {
		ok = !generic_parse_monolithic(fc, option);
		put_fs_context(fc);
	}
	module_put(type->owner);
	return ok;
}

static const char *iwt_mount_options(const struct iwt_mode *mode)
{
	if (mode->path == IWT_IOMAP)
		return mode->delalloc ? "delalloc,buffered_iomap" :
					"nodelalloc,buffered_iomap";
	/* Where the series is, ask for buffer_heads, not its default. */
	if (iwt_have_iomap)
		return mode->delalloc ? "delalloc,nobuffered_iomap" :
					"nodelalloc,nobuffered_iomap";
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
	mnt = data ? vfs_kern_mount(type, SB_KERNMOUNT, iwt_rd.source, data) :
		     ERR_PTR(-ENOMEM);
	kfree(data);
	module_put(type->owner);
	return mnt;
}

static int iwt_make_node(void)
{
	struct path parent;
	struct dentry *dentry;
	int ret;

	if (!iwt_rd.make_node)
		return 0;
	dentry = iwt_start_creating(iwt_rd.source, &parent);
	if (IS_ERR(dentry))
		return PTR_ERR(dentry);
	ret = iwt_mknod(d_inode(parent.dentry), dentry, iwt_rd.dev);
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

	if (iwt_rd.make_node && !kern_path(iwt_rd.source, 0, &path))
		iwt_unlink(&path);
}

/**
 * iwt_unmount() - unmount; ext4_put_super() has run when this returns
 * @fs: the case's filesystem
 *
 * The mount is an internal one (SB_KERNMOUNT), so kern_unmount() tears it
 * down here and now, not from the work item that defers a kthread's last
 * mntput() of an ordinary mount.
 */
static void iwt_unmount(struct iwt_fs *fs)
{
	if (!fs->mnt)
		return;
	flush_delayed_fput();
	kern_unmount(fs->mnt);
	fs->mnt = NULL;
	fs->sb = NULL;
}

static void iwt_unmount_action(void *ctx)
{
	iwt_unmount(ctx);
}

static int iwt_try_mount(struct iwt_fs *fs, const char *options)
{
	struct fs_struct *old_fs = iwt_use_init_fs();
	struct vfsmount *mnt;
	int ret = iwt_make_node();

	if (ret) {
		iwt_restore_fs(old_fs);
		return ret;
	}
	mnt = iwt_kern_mount(options);
	iwt_remove_node();
	iwt_restore_fs(old_fs);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	fs->mnt = mnt;
	fs->sb = mnt->mnt_sb;
	return 0;
}

/**
 * iwt_mount() - mount the ramdisk with the case's options
 * @fs: the case's filesystem
 */
static void iwt_mount(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	const char *options = iwt_mount_options(fs->env->mode);
	int ret = iwt_try_mount(fs, options);

	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "mount -o %s of %s", options,
			    fs->env->geo->name);
	/*
	 * Known issues may rest on a message ext4 logs: no ratelimit, as
	 * with msg_ and warning_ratelimit_interval_ms = 0 in sysfs.
	 */
	EXT4_SB(fs->sb)->s_msg_ratelimit_state.interval = 0;
	EXT4_SB(fs->sb)->s_warning_ratelimit_state.interval = 0;
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
 * iwt_setup_sized() - format, mount and take the baseline counters
 * @test: the running case
 * @env: mode and geometry
 * @data_bytes: room for the case's files
 *
 * Return: the case's filesystem, mounted; unmounted and wiped by actions.
 */
static struct iwt_fs *iwt_setup_sized(struct kunit *test,
				      const struct iwt_env *env, u64 data_bytes)
{
	struct iwt_fs *fs;

	if (env->mode->path == IWT_IOMAP && !iwt_have_iomap)
		kunit_skip(test, "%s", "no iomap buffered write path: ext4 rejects buffered_iomap");
	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->test = test;
	fs->env = env;
	fs->mounted = env;
	fs->data_bytes = data_bytes;
	fs->scratch = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
				    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE(test, fs->scratch, 0);
	fs->warned = test_taint(TAINT_WARN);
	iwt_console_start(test);
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
	/*
	 * ext4_nonda_switch(): below EXT4_FREECLUSTERS_WATERMARK free
	 * clusters (4 * percpu_counter_batch * nr_cpu_ids on SMP, 0 on UP)
	 * ext4_da_write_begin() writes the nodelalloc way. On SMP the small
	 * bigalloc filesystems start there: their delalloc cases are held to
	 * the nodelalloc semantics of the same path, which is what runs.
	 */
	if (env->mode->delalloc && fs->base_free < (s64)EXT4_FREECLUSTERS_WATERMARK) {
		fs->nonda = *env;
		fs->nonda.mode = &iwt_modes[(env->mode - iwt_modes) | 1];
		fs->env = &fs->nonda;
		kunit_info(test, "%lld free clusters, under ext4's watermark of %lld: %s writes go the %s way (ext4_nonda_switch())",
			   fs->base_free, (s64)EXT4_FREECLUSTERS_WATERMARK,
			   env->mode->name, fs->env->mode->name);
	}
	return fs;
}

static struct iwt_fs *iwt_setup(struct kunit *test, const struct iwt_env *env)
{
	return iwt_setup_sized(test, env, IWT_DATA_BYTES);
}

/**
 * iwt_detect_path() - which write path an inode actually uses
 * @inode: a regular file of the mounted filesystem
 *
 * The buffer_head address_space_operations implement ->write_begin; the
 * iomap ones of the series leave it NULL and write through iomap_iter.
 *
 * Return: the path.
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
 * The buffer ends exactly where an inaccessible page begins, so a write of
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
	/*
	 * A PROT_NONE page, not a hole, ends the buffer: a later mapping
	 * must not land there and make the source longer than it is.
	 */
	KUNIT_ASSERT_EQ(test, vm_munmap(base + len - PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, kunit_vm_mmap(test, NULL, base + len - PAGE_SIZE,
					    PAGE_SIZE, PROT_NONE,
					    MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0),
			base + len - PAGE_SIZE);
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
 * struct iwt_diff - where read-back data differs from what was expected
 * @bad: bytes that differ
 * @first: offset of the first one
 * @last: offset of the last one
 * @poison: how many of them hold %IWT_POISON
 * @zeros: how many of them are zeros
 */
struct iwt_diff {
	size_t bad;
	loff_t first;
	loff_t last;
	size_t poison;
	size_t zeros;
};

static ssize_t iwt_read_on(struct iwt_fs *fs, struct file *file, u8 *buf,
			   size_t len, loff_t pos, size_t got);

/**
 * iwt_diff_data() - read back and compare with the pattern
 * @fs: the case's filesystem
 * @file: the file
 * @pos: first byte
 * @len: bytes
 * @seed: pattern seed the bytes were written with, or -1 for zeros
 * @d: where they differ
 */
static void iwt_diff_data(struct iwt_fs *fs, struct file *file, loff_t pos,
			  size_t len, int seed, struct iwt_diff *d)
{
	struct kunit *test = fs->test;
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL);
	loff_t rpos = pos;
	ssize_t got;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	got = kernel_read(file, buf, len, &rpos);
	if (got >= 0 && got < len)
		got += iwt_read_on(fs, file, buf, len, pos, got);
	KUNIT_ASSERT_EQ_MSG(test, got, (ssize_t)len,
			    "read of %zu bytes at offset %lld", len, pos);
	memset(d, 0, sizeof(*d));
	for (i = 0; i < len; i++) {
		if (buf[i] == (seed < 0 ? 0 : iwt_pattern(pos + i, seed)))
			continue;
		if (!d->bad++)
			d->first = pos + i;
		d->last = pos + i;
		d->poison += buf[i] == IWT_POISON;
		d->zeros += !buf[i];
	}
	kunit_kfree(test, buf);
}

static void iwt_report_diff(struct iwt_fs *fs, const struct iwt_diff *d,
			    const char *when)
{
	unsigned int bits = fs->sb->s_blocksize_bits;

	KUNIT_FAIL(fs->test,
		   "%zu bytes differ from what was written in [%lld, %lld] (blocks %lld-%lld) %s; %zu of them hold the poison %#04x",
		   d->bad, d->first, d->last, d->first >> bits, d->last >> bits,
		   when, d->poison, IWT_POISON);
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
	struct iwt_diff d;

	iwt_diff_data(fs, file, pos, len, seed, &d);
	if (d.bad)
		iwt_report_diff(fs, &d, when);
}

/**
 * iwt_expect_before() - the bytes just before a write are as they were
 * @fs: the case's filesystem
 * @file: the file
 * @pos: write position
 * @seed: pattern seed they were written with, or -1 for zeros
 * @when: what happened before, for the failure message
 *
 * Reads from a page before the folio holding @pos up to @pos (or EOF),
 * which covers the head of the block and of the folio the write starts in.
 */
static void iwt_expect_before(struct iwt_fs *fs, struct file *file, loff_t pos,
			      int seed, const char *when)
{
	loff_t head = max_t(loff_t, 0, round_down(pos, PAGE_SIZE) - PAGE_SIZE);
	loff_t end = min_t(loff_t, pos, i_size_read(file_inode(file)));

	if (end > head)
		iwt_expect_data(fs, file, head, end - head, seed, when);
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
	iwt_expect_no_warn(fs);
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

static void iwt_read_disk(struct kunit *test, struct file *bdev, loff_t pos,
			  void *buf, size_t len)
{
	KUNIT_ASSERT_EQ_MSG(test, kernel_read(bdev, buf, len, &pos), (ssize_t)len,
			    "read of %zu bytes at byte %lld of the ramdisk", len, pos);
}

/**
 * iwt_check_disk() - the unmounted filesystem is clean and all free again
 * @fs: the case's filesystem, unmounted
 *
 * Reads the superblock, the group descriptors and every block bitmap from
 * the ramdisk: the superblock's free count, each group's free count and
 * the zero bits of its bitmap must all say what the formatter made.
 */
static void iwt_check_disk(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	const struct ext4_iwt_mkfs_layout *l = &fs->layout;
	unsigned int ratio = fs->env->geo->cluster_ratio;
	struct file *bdev = iwt_open_ramdisk(test);
	struct ext4_super_block *es;
	struct ext4_group_desc *gd;
	u64 clusters = l->clusters, gd_free = 0, bits_free = 0;
	u32 cpg, bs, g, bit;
	u8 *bitmap;

	es = kunit_kmalloc(test, sizeof(*es), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, es);
	iwt_read_disk(test, bdev, 1024, es, sizeof(*es));
	bs = 1024U << le32_to_cpu(es->s_log_block_size);
	cpg = le32_to_cpu(es->s_clusters_per_group);
	KUNIT_EXPECT_EQ_MSG(test, le16_to_cpu(es->s_state) & (EXT4_VALID_FS | EXT4_ERROR_FS),
			    EXT4_VALID_FS, "s_state on disk after unmount");
	KUNIT_EXPECT_EQ_MSG(test, le32_to_cpu(es->s_error_count), 0, "s_error_count on disk");
	KUNIT_EXPECT_EQ_MSG(test, le32_to_cpu(es->s_free_blocks_count_lo), (u32)l->free_blocks,
			    "s_free_blocks_count on disk after unmount");

	gd = kunit_kmalloc(test, l->groups * EXT4_MIN_DESC_SIZE, GFP_KERNEL);
	bitmap = kunit_kmalloc(test, bs, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, gd);
	KUNIT_ASSERT_NOT_NULL(test, bitmap);
	/* The descriptors start in the block after the superblock's. */
	iwt_read_disk(test, bdev, (loff_t)(1024 / bs + 1) * bs, gd,
		      l->groups * EXT4_MIN_DESC_SIZE);
	for (g = 0; g < l->groups; g++) {
		struct ext4_group_desc *d = (void *)gd + g * EXT4_MIN_DESC_SIZE;
		u32 in_group = min_t(u64, cpg, clusters - (u64)g * cpg);
		u32 zeros = 0;

		iwt_read_disk(test, bdev,
			      (loff_t)le32_to_cpu(d->bg_block_bitmap_lo) * bs,
			      bitmap, bs);
		for (bit = 0; bit < in_group; bit++)
			zeros += !test_bit_le(bit, bitmap);
		KUNIT_EXPECT_EQ_MSG(test, zeros, (u32)le16_to_cpu(d->bg_free_blocks_count_lo),
				    "group %u: zero bits in its block bitmap vs its free count",
				    g);
		gd_free += le16_to_cpu(d->bg_free_blocks_count_lo);
		bits_free += zeros;
	}
	KUNIT_EXPECT_EQ_MSG(test, bits_free, l->free_clusters,
			    "free clusters in the bitmaps after unmount vs at mkfs");
	KUNIT_EXPECT_EQ_MSG(test, gd_free * ratio, l->free_blocks,
			    "free blocks in the group descriptors vs at mkfs");
	iwt_close(bdev);
}

/* How long file error reports may take to be passed on. */
#define IWT_REPORTS_MS		10000

/**
 * iwt_drain_error_reports() - let queued file error reports drop their
 *	inode references
 * @fs: the case's filesystem
 * @when: what happened before, for the messages
 *
 * A writeback error the iomap path reports (iomap_finish_ioends()) holds a
 * reference to the inode until a work item has passed the report on. An
 * unlinked file is only evicted, and its blocks only freed, on the last
 * iput(): while a report waits, the free-cluster count is short by the
 * file's blocks though nothing leaked. Unmount waits for the reports
 * (fserror_unmount()); the counters are read once they have run.
 */
static void iwt_drain_error_reports(struct iwt_fs *fs, const char *when)
{
	unsigned long end = jiffies + msecs_to_jiffies(IWT_REPORTS_MS);
	unsigned int queued = iwt_error_reports_queued(fs->sb);
	s64 free = iwt_free_clusters(fs);

	if (!queued)
		return;
	while (iwt_error_reports_queued(fs->sb) && time_before(jiffies, end))
		msleep(20);
	KUNIT_EXPECT_EQ_MSG(fs->test, iwt_error_reports_queued(fs->sb), 0,
			    "file error reports still queued %u ms %s, expected none",
			    IWT_REPORTS_MS, when);
	if (iwt_free_clusters(fs) != free)
		kunit_info(fs->test, "%s: %u file error report(s) were queued; free clusters %lld before they ran, %lld after",
			   when, queued, free, iwt_free_clusters(fs));
}

/**
 * iwt_expect_baseline() - counters back at the fresh mount's, no error
 * @fs: the case's filesystem
 * @when: what happened before, for the failure message
 */
static void iwt_expect_baseline(struct iwt_fs *fs, const char *when)
{
	iwt_drain_error_reports(fs, when);
	KUNIT_EXPECT_EQ_MSG(fs->test, iwt_dirty_clusters(fs), fs->base_dirty,
			    "s_dirtyclusters_counter %s", when);
	KUNIT_EXPECT_EQ_MSG(fs->test, iwt_free_clusters(fs), fs->base_free,
			    "free clusters %s", when);
	iwt_expect_clean(fs);
}

/* --------------------------------------------------------------------
 * The formatter on its own: every geometry it is asked for, and the
 * parameters it must refuse. With image_dir= (UML) each image is also
 * written to the host, where make check runs e2fsck -fn and dumpe2fs.
 */

static char *image_dir = "";
module_param(image_dir, charp, 0444);
MODULE_PARM_DESC(image_dir,
		 "UML: a host directory, mounted through hostfs, that iwt_mkfs_image writes each image (<case>.img, sparse) and its layout (<case>.layout) to, for e2fsck and dumpe2fs on the host; empty: none");

/**
 * struct iwt_mkfs_case - one run of the formatter
 * @p: what to ask for
 * @blocks: the block count it must make; 0 for @p.fs_bytes in whole
 *	clusters
 * @err: the error it must return, 0 for none
 */
struct iwt_mkfs_case {
	struct ext4_iwt_mkfs_params p;
	u64 blocks;
	int err;
};

#define IWT_MKFS(bs, ratio, jnl, bytes) \
	{ .p = { .block_size = bs, .cluster_ratio = ratio, .journal = jnl, \
		 .fs_bytes = bytes } }
#define IWT_MKFS_J(bs, ratio, bytes, jblocks) \
	{ .p = { .block_size = bs, .cluster_ratio = ratio, .journal = true, \
		 .fs_bytes = bytes, .journal_blocks = jblocks } }
#define IWT_MKFS_CSUM(bs, ratio, jnl, bytes) \
	{ .p = { .block_size = bs, .cluster_ratio = ratio, .journal = jnl, \
		 .fs_bytes = bytes, .metadata_csum = true } }
#define IWT_MKFS_BAD(bs, ratio, jnl, bytes, jblocks) \
	{ .p = { .block_size = bs, .cluster_ratio = ratio, .journal = jnl, \
		 .fs_bytes = bytes, .journal_blocks = jblocks }, .err = -EINVAL }
static const struct iwt_mkfs_case iwt_mkfs_cases[] = {
	/* Every block size, cluster ratio and journal, at 8 and 16 MiB. */
	IWT_MKFS(1024, 1, false, 8 * SZ_1M), IWT_MKFS(1024, 1, false, 16 * SZ_1M),
	IWT_MKFS(1024, 4, false, 8 * SZ_1M), IWT_MKFS(1024, 4, false, 16 * SZ_1M),
	IWT_MKFS(1024, 16, false, 8 * SZ_1M), IWT_MKFS(1024, 16, false, 16 * SZ_1M),
	IWT_MKFS(1024, 1, true, 8 * SZ_1M), IWT_MKFS(1024, 1, true, 16 * SZ_1M),
	IWT_MKFS(1024, 4, true, 8 * SZ_1M), IWT_MKFS(1024, 4, true, 16 * SZ_1M),
	IWT_MKFS(1024, 16, true, 8 * SZ_1M), IWT_MKFS(1024, 16, true, 16 * SZ_1M),
	IWT_MKFS(2048, 1, false, 8 * SZ_1M), IWT_MKFS(2048, 1, false, 16 * SZ_1M),
	IWT_MKFS(2048, 4, false, 8 * SZ_1M), IWT_MKFS(2048, 4, false, 16 * SZ_1M),
	IWT_MKFS(2048, 16, false, 8 * SZ_1M), IWT_MKFS(2048, 16, false, 16 * SZ_1M),
	IWT_MKFS(2048, 1, true, 8 * SZ_1M), IWT_MKFS(2048, 1, true, 16 * SZ_1M),
	IWT_MKFS(2048, 4, true, 8 * SZ_1M), IWT_MKFS(2048, 4, true, 16 * SZ_1M),
	IWT_MKFS(2048, 16, true, 8 * SZ_1M), IWT_MKFS(2048, 16, true, 16 * SZ_1M),
	IWT_MKFS(4096, 1, false, 8 * SZ_1M), IWT_MKFS(4096, 1, false, 16 * SZ_1M),
	IWT_MKFS(4096, 4, false, 8 * SZ_1M), IWT_MKFS(4096, 4, false, 16 * SZ_1M),
	IWT_MKFS(4096, 16, false, 8 * SZ_1M), IWT_MKFS(4096, 16, false, 16 * SZ_1M),
	IWT_MKFS(4096, 1, true, 8 * SZ_1M), IWT_MKFS(4096, 1, true, 16 * SZ_1M),
	IWT_MKFS(4096, 4, true, 8 * SZ_1M), IWT_MKFS(4096, 4, true, 16 * SZ_1M),
	IWT_MKFS(4096, 16, true, 8 * SZ_1M), IWT_MKFS(4096, 16, true, 16 * SZ_1M),
	/* Tiny filesystems, one partial group each. */
	IWT_MKFS(1024, 1, false, 256 * 1024),
	IWT_MKFS(1024, 1, false, 16384),
	IWT_MKFS(2048, 4, false, 512 * 1024),
	IWT_MKFS(4096, 16, false, 256 * 1024),
	/* Several groups, a partial last one, backups in 1, 3, 5, 7 and 9. */
	IWT_MKFS(1024, 1, false, 32 * SZ_1M),
	IWT_MKFS(1024, 1, true, 20 * SZ_1M),
	IWT_MKFS(2048, 1, true, 40 * SZ_1M),
	IWT_MKFS(1024, 4, true, 80 * SZ_1M),
	IWT_MKFS(1024, 1, false, 80 * SZ_1M),
	/* A 20-block last group cannot hold its metadata and is dropped. */
	{ .p = { .block_size = 1024, .cluster_ratio = 1,
		 .fs_bytes = 8 * SZ_1M + 20 * 1024 }, .blocks = 8193 },
	/* A size that is not a whole number of blocks or clusters. */
	IWT_MKFS(4096, 16, true, 16 * SZ_1M + 12345),
	/* Longer journals: four extents in one inode, in a later group. */
	IWT_MKFS_J(1024, 16, 128 * SZ_1M, 120000),
	IWT_MKFS_J(1024, 1, 32 * SZ_1M, 8000),
	/* With metadata_csum, as mke2fs makes filesystems and the suite's. */
	IWT_MKFS_CSUM(1024, 1, true, 16 * SZ_1M),
	IWT_MKFS_CSUM(2048, 1, true, 16 * SZ_1M),
	IWT_MKFS_CSUM(4096, 1, true, 16 * SZ_1M),
	IWT_MKFS_CSUM(1024, 1, false, 16 * SZ_1M),
	IWT_MKFS_CSUM(4096, 4, true, 16 * SZ_1M),
	IWT_MKFS_CSUM(4096, 16, false, 16 * SZ_1M),
	IWT_MKFS_CSUM(1024, 16, true, 16 * SZ_1M),
	IWT_MKFS_CSUM(1024, 1, true, 40 * SZ_1M),
	/* What it must refuse. */
	IWT_MKFS_BAD(512, 1, false, 16 * SZ_1M, 0),
	IWT_MKFS_BAD(8192, 1, false, 16 * SZ_1M, 0),
	IWT_MKFS_BAD(4096, 8, false, 16 * SZ_1M, 0),
	IWT_MKFS_BAD(1024, 2, false, 16 * SZ_1M, 0),
	IWT_MKFS_BAD(1024, 0, false, 16 * SZ_1M, 0),
	IWT_MKFS_BAD(1024, 1, false, 8192, 0),
	/* No room for the root directory and lost+found. */
	IWT_MKFS_BAD(4096, 16, false, 64 * 1024, 0),
	IWT_MKFS_BAD(1024, 1, true, 1 * SZ_1M, 0),
	IWT_MKFS_BAD(4096, 1, true, 4 * SZ_1M, 0),
	IWT_MKFS_BAD(4096, 1, true, 16 * SZ_1M, 512),
	/* Longer than four extents, longer than any group. */
	IWT_MKFS_BAD(4096, 1, true, SZ_1G, 131073),
	IWT_MKFS_BAD(1024, 1, true, 32 * SZ_1M, 8192),
};

static void iwt_mkfs_case_desc(const struct iwt_mkfs_case *c, char *desc)
{
	const struct ext4_iwt_mkfs_params *p = &c->p;
	char jblocks[16] = "";

	if (p->journal_blocks)
		snprintf(jblocks, sizeof(jblocks), "-j%u", p->journal_blocks);
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s%u-c%u%s%s-%lluK%s%s",
		 c->err ? "bad-" : "", p->block_size, p->cluster_ratio,
		 p->journal ? "-journal" : "", p->metadata_csum ? "-csum" : "",
		 p->fs_bytes >> 10, jblocks, p->fs_bytes & 1023 ? "+" : "");
}

KUNIT_ARRAY_PARAM(iwt_mkfs, iwt_mkfs_cases, iwt_mkfs_case_desc);

/**
 * struct iwt_sink - where a formatter run goes
 * @file: the image file on the host, NULL to keep nothing
 * @block_size: the filesystem's block size
 * @next: the offset the next write must start at
 * @crc: crc32 of every byte handed over
 */
struct iwt_sink {
	struct file *file;
	unsigned int block_size;
	u64 next;
	u32 crc;
};

/*
 * The formatter promises every block, zeros included, in increasing
 * order: a gap or a step back is an error. Zero blocks are not written to
 * the image, which stays sparse on the host.
 */
static int iwt_sink_write(void *ctx, u64 offset, const void *buf, size_t len)
{
	struct iwt_sink *s = ctx;
	size_t done;

	if (offset != s->next || !len || len % s->block_size)
		return -EIO;
	s->crc = crc32_le(s->crc, buf, len);
	s->next += len;
	for (done = 0; s->file && done < len; done += s->block_size) {
		loff_t pos = offset + done;
		const void *blk = buf + done;

		if (!memchr_inv(blk, 0, s->block_size))
			continue;
		if (kernel_write(s->file, blk, s->block_size, &pos) != s->block_size)
			return -EIO;
	}
	return 0;
}

static void iwt_kern_unmount_action(void *mnt)
{
	kern_unmount(mnt);
}

/**
 * iwt_image_open() - create a file in image_dir on the host
 * @test: the running case
 * @mnt: the hostfs mount of image_dir, made on first use
 * @name: the file's name
 *
 * Return: the file, open for writing and empty; closed by the case's
 * cleanup.
 */
static struct file *iwt_image_open(struct kunit *test, struct vfsmount **mnt,
				   const char *name)
{
	struct file_system_type *type;
	struct file *file;
	char *data;

	if (!*mnt) {
		type = get_fs_type("hostfs");
		KUNIT_ASSERT_NOT_NULL_MSG(test, type, "image_dir=%s: no hostfs (UML only)",
					  image_dir);
		data = kunit_kstrdup(test, image_dir, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, data);
		*mnt = vfs_kern_mount(type, SB_KERNMOUNT, "hostfs", data);
		module_put(type->owner);
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(*mnt), "hostfs mount of %s: %ld",
				       image_dir, PTR_ERR(*mnt));
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_kern_unmount_action,
								*mnt), 0);
	}
	file = file_open_root_mnt(*mnt, name, O_WRONLY | O_CREAT | O_TRUNC |
				  O_LARGEFILE, 0644);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "creating %s/%s: %ld", image_dir,
			       name, PTR_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_close_action,
							file), 0);
	return file;
}

/* The layout as key-value lines, for the host's checks. */
static void iwt_image_layout(struct kunit *test, struct file *file,
			     const struct ext4_iwt_mkfs_params *p,
			     const struct ext4_iwt_mkfs_layout *l)
{
	char *text = kunit_kzalloc(test, 1024, GFP_KERNEL);
	loff_t pos = 0;
	int len;

	KUNIT_ASSERT_NOT_NULL(test, text);
	len = scnprintf(text, 1024,
			"block_size %u\ncluster_ratio %u\njournal %d\nmetadata_csum %d\n"
			"fs_bytes %llu\n"
			"blocks %llu\nclusters %llu\ngroups %u\nblocks_per_group %u\n"
			"inodes_per_group %u\ninodes %u\nfirst_data_block %u\n"
			"gdt_blocks %u\ninode_table_blocks %u\nfree_clusters %llu\n"
			"free_blocks %llu\nfree_inodes %u\nroot_block %u\nlpf_block %u\n"
			"journal_start %u\njournal_blocks %u\n",
			p->block_size, p->cluster_ratio, p->journal, p->metadata_csum,
			p->fs_bytes,
			l->blocks, l->clusters, l->groups, l->blocks_per_group,
			l->inodes_per_group, l->inodes, l->first_data_block,
			l->gdt_blocks, l->inode_table_blocks, l->free_clusters,
			l->free_blocks, l->free_inodes, l->root_block, l->lpf_block,
			l->journal_start, l->journal_blocks);
	KUNIT_ASSERT_EQ_MSG(test, kernel_write(file, text, len, &pos), (ssize_t)len,
			    "writing the layout to %s", image_dir);
}

/*
 * The formatter alone: it refuses what it must, makes the block count
 * asked for, hands over every block once in order, makes the same bytes
 * twice, and with image_dir= leaves the image for the host to check.
 */
static void iwt_mkfs_image(struct kunit *test)
{
	const struct iwt_mkfs_case *c = test->param_value;
	unsigned int bs = c->p.block_size;
	u64 want = c->blocks;
	struct iwt_sink s = { .block_size = bs }, again = { .block_size = bs };
	struct ext4_iwt_mkfs_layout l, l2;
	struct vfsmount *mnt = NULL;
	char desc[KUNIT_PARAM_DESC_SIZE], name[KUNIT_PARAM_DESC_SIZE + 8];
	int ret;

	/* Compared whole below: no stale padding. */
	memset(&l, 0, sizeof(l));
	memset(&l2, 0, sizeof(l2));
	if (!c->err && image_dir && image_dir[0]) {
		iwt_mkfs_case_desc(c, desc);
		snprintf(name, sizeof(name), "%s.img", desc);
		s.file = iwt_image_open(test, &mnt, name);
	}
	ret = ext4_iwt_mkfs(&c->p, iwt_sink_write, &s, &l);
	KUNIT_ASSERT_EQ_MSG(test, ret, c->err, "ext4_iwt_mkfs() returned %d, expected %d",
			    ret, c->err);
	if (c->err) {
		KUNIT_EXPECT_EQ_MSG(test, s.next, 0ULL, "a refused format wrote %llu bytes",
				    s.next);
		return;
	}
	if (!want)
		want = div_u64(c->p.fs_bytes, (u64)bs * c->p.cluster_ratio) *
		       c->p.cluster_ratio;
	KUNIT_EXPECT_EQ_MSG(test, l.blocks, want, "block count of a %llu-byte filesystem",
			    c->p.fs_bytes);
	KUNIT_EXPECT_EQ_MSG(test, s.next, l.blocks * bs,
			    "bytes handed over vs %llu blocks of %u", l.blocks, bs);
	KUNIT_EXPECT_EQ(test, l.clusters * c->p.cluster_ratio, l.blocks);
	KUNIT_EXPECT_EQ(test, l.free_blocks, l.free_clusters * c->p.cluster_ratio);
	KUNIT_EXPECT_EQ_MSG(test, !!l.journal_blocks, c->p.journal,
			    "a journal of %u blocks", l.journal_blocks);
	ret = ext4_iwt_mkfs(&c->p, iwt_sink_write, &again, &l2);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, again.crc, s.crc,
			    "crc32 of a second format of the same parameters");
	KUNIT_EXPECT_EQ(test, memcmp(&l, &l2, sizeof(l)), 0);
	if (!s.file)
		return;
	/* The last block may be zeros: the image still has its full size. */
	KUNIT_EXPECT_EQ_MSG(test, vfs_truncate(&s.file->f_path, s.next), 0,
			    "sizing %s/%s", image_dir, name);
	snprintf(name, sizeof(name), "%s.layout", desc);
	iwt_image_layout(test, iwt_image_open(test, &mnt, name), &c->p, &l);
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
	struct iwt_fs *fs = iwt_setup(test, test->param_value);
	unsigned int bs = fs->env->geo->block_size;
	size_t full = 3 * bs + 100, part = bs / 2 + 7;
	struct file *file = iwt_open(fs, IWT_FILE);
	unsigned long ubuf;
	ssize_t ret;

	ubuf = iwt_user_buf(test, full, 0, 1);
	ret = iwt_write(file, ubuf, full, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)full, "full write at offset 0");
	if (iwt_planted("fail") && fs->env == iwt_envs)
		KUNIT_FAIL_AND_ABORT(test, "planted failure (plant=fail) with %s",
				     "a file open and the filesystem mounted");
	/* Only the per-case count from the console can see a second WARN. */
	if (iwt_planted("warn") && fs->env <= iwt_envs + 1)
		WARN(1, "planted WARN (plant=warn) in %s/%s", fs->env->mode->name,
		     fs->env->geo->name);

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
	iwt_expect_baseline(fs, "once the file is gone");
	iwt_unmount(fs);
	iwt_check_disk(fs);
}

/* --------------------------------------------------------------------
 * Short-write scenarios: one table, one runner, one checker.
 */

/**
 * enum iwt_state - what fiemap reports for one block
 * @IWT_HOLE: nothing mapped or reserved
 * @IWT_DELAYED: a delayed-allocation reservation (FIEMAP_EXTENT_DELALLOC)
 * @IWT_UNWRITTEN: allocated, reads as zeros (FIEMAP_EXTENT_UNWRITTEN)
 * @IWT_WRITTEN: allocated and written
 */
enum iwt_state {
	IWT_HOLE,
	IWT_DELAYED,
	IWT_UNWRITTEN,
	IWT_WRITTEN,
};

static const char *const iwt_state_names[] = {
	"hole", "delayed", "unwritten", "written",
};

/* --------------------------------------------------------------------
 * Known kernel issues: one table, one matcher.
 */

/* Write paths a known issue affects: one bit per &struct iwt_mode. */
#define IWT_BH_DA		BIT(0)
#define IWT_BH_NODA		BIT(1)
#define IWT_IOMAP_DA		BIT(2)
#define IWT_IOMAP_NODA		BIT(3)

/**
 * iwt_mode_bit() - the bit of a write path among IWT_BH_DA, ...
 * @mode: the mode
 *
 * Return: IWT_BH_DA, IWT_BH_NODA, IWT_IOMAP_DA or IWT_IOMAP_NODA.
 */
static unsigned int iwt_mode_bit(const struct iwt_mode *mode)
{
	return BIT((mode->path == IWT_IOMAP) * 2 + !mode->delalloc);
}

/**
 * enum iwt_ki - the rows of iwt_known[]
 * @IWT_KI_EFAULT_SIZE: first byte faults, i_size grows anyway
 * @IWT_KI_FAILED_WRITE_SIZE: an injected failure before the first byte,
 *	i_size grows anyway
 * @IWT_KI_IOMAP_FAILED_WRITE_SIZE: the same through iomap_write_iter()
 * @IWT_KI_STALE_TAIL: iomap, stale page memory past a short copy
 * @IWT_KI_ENOSPC_WHOLE: iomap delalloc, -ENOSPC for the whole write
 * @IWT_KI_ENOSPC_FOLIO: buffer_head with large folios, a write out of space
 *	stops at the first folio that does not fit whole
 * @IWT_KI_SHORT_READ: iomap, a read stops short at the folio that
 *	straddles s_maxbytes
 * @IWT_KI_JOURNAL_START: -ENOMEM from ext4_da_do_write_end() after i_size
 *	grew
 * @IWT_KI_CONVERT_LOSS: unwritten-extent conversion fails, fsync says 0
 * @IWT_KI_WB_PAST_EOF: iomap delalloc, writeback racing a write allocates
 *	its whole reserved range, and what the short copy left stays
 *	allocated past EOF
 * @IWT_KI_WB_ENOMEM_LOSS: iomap delalloc, -ENOMEM allocating at writeback
 *	drops the data
 * @IWT_KI_NR: number of rows
 */
enum iwt_ki {
	IWT_KI_EFAULT_SIZE,
	IWT_KI_FAILED_WRITE_SIZE,
	IWT_KI_IOMAP_FAILED_WRITE_SIZE,
	IWT_KI_STALE_TAIL,
	IWT_KI_ENOSPC_WHOLE,
	IWT_KI_ENOSPC_FOLIO,
	IWT_KI_SHORT_READ,
	IWT_KI_JOURNAL_START,
	IWT_KI_CONVERT_LOSS,
	IWT_KI_WB_PAST_EOF,
	IWT_KI_WB_ENOMEM_LOSS,
	IWT_KI_NR,
};

/**
 * struct iwt_obs - what a case saw where it departs from the semantics
 * @injected: a fault-injection step (fail-nth) of a sweep
 * @ret: what the write returned
 * @copyable: bytes the source lets copy_from_user() read
 * @room: bytes from @pos to the end of the folio the write's first copy
 *	went to (iwt_first_folio_room())
 * @folio: size of the folio that took the short copy
 * @pos: write position
 * @old_size: i_size before the write
 * @size: i_size after it
 * @fsync_err: what fsync returned
 * @refsync_err: what the next fsync, with nothing injected, returned
 * @hole_in_block: the write lands in a hole inside i_size and starts
 *	inside a block
 * @diff: bytes read back that differ from what they must hold
 * @lo: first byte where differing bytes are allowed by the row
 * @hi: byte past the last one
 * @states: the states of the blocks from the one holding @diff.first to
 *	the one holding @diff.last, as BIT(&enum iwt_state)
 * @free: free clusters before the write
 * @asked: clusters the write asks for
 * @fits: bytes from @pos the free clusters have room for
 * @stop: bytes from @pos to the first folio that does not fit whole (see
 *	iwt_whole_folio_stop())
 * @stop_folio: the size of that folio
 * @got: bytes a read returned
 * @rest: what reading on from there returned
 * @maxbytes: the filesystem's s_maxbytes
 * @concurrent: writeback calls made while the write ran
 * @unw_lo: first byte of the first block past EOF found unwritten
 * @unw_hi: byte past the last such block
 * @console: the kernel's console output since the case (or the replayed
 *	step) began
 */
struct iwt_obs {
	bool injected;
	ssize_t ret;
	size_t copyable;
	size_t room;
	loff_t folio;
	loff_t pos;
	loff_t old_size;
	loff_t size;
	int fsync_err;
	int refsync_err;
	bool hole_in_block;
	struct iwt_diff diff;
	loff_t lo;
	loff_t hi;
	unsigned int states;
	s64 free;
	s64 asked;
	s64 fits;
	size_t stop;
	loff_t stop_folio;
	size_t got;
	ssize_t rest;
	loff_t maxbytes;
	unsigned long concurrent;
	loff_t unw_lo;
	loff_t unw_hi;
	const char *console;
};

/**
 * struct iwt_known - a kernel issue the suite reports instead of failing
 * @id: stable name, used in skip reasons and in the harness's per-tree
 *	lists of expected outcomes
 * @paths: write paths affected (IWT_BH_DA, ...)
 * @journal: only on filesystems with a journal
 * @small_blocks: only with blocks smaller than a page
 * @block_in_folio: only with blocks smaller than the folio that took the
 *	short copy
 * @since: first kernel affected (KERNEL_VERSION()); older ones fail
 * @commit: the commit that introduced it, where known
 * @frames: functions the injected fault's call trace must show, in this
 *	order from the innermost (fault-injection steps only)
 * @messages: what the kernel must have logged during the case, each on
 *	the releases that log it: [since, until), until 0 for open-ended
 * @match: the values the case saw, exactly
 * @text: what the issue is
 *
 * A case becomes a known-issue result only when every element matches;
 * any other departure from the semantics fails the case.
 */
struct iwt_known {
	const char *id;
	unsigned int paths;
	bool journal;
	bool small_blocks;
	bool block_in_folio;
	u32 since;
	const char *commit;
	const char *frames[2];
	struct {
		const char *text;
		u32 since;
		u32 until;
	} messages[2];
	bool (*match)(const struct iwt_obs *o);
	const char *text;
};

/* Nothing was copied, yet i_size moved from below @pos to @pos exactly. */
static bool iwt_grew_to_pos(const struct iwt_obs *o)
{
	return o->ret < 0 && o->pos > o->old_size && o->size == o->pos;
}

static bool iwt_sig_efault_size(const struct iwt_obs *o)
{
	return !o->injected && o->ret == -EFAULT && !o->copyable &&
	       iwt_grew_to_pos(o);
}

/* The first folio's copy came up short, then the retry failed. */
static bool iwt_sig_failed_write_size(const struct iwt_obs *o)
{
	return o->injected && o->ret == -ENOMEM && o->copyable < o->room &&
	       iwt_grew_to_pos(o);
}

/* Every stale byte is the poison, and all lie in [lo, hi). */
static bool iwt_sig_stale_tail(const struct iwt_obs *o)
{
	return !o->injected && o->hole_in_block && o->ret > 0 &&
	       o->diff.bad && o->diff.poison == o->diff.bad &&
	       o->lo == o->pos + o->ret && o->diff.first >= o->lo &&
	       o->diff.last < o->hi;
}

static bool iwt_sig_enospc_whole(const struct iwt_obs *o)
{
	return !o->injected && o->ret == -ENOSPC && o->size == o->old_size &&
	       o->free > 0 && o->asked > o->free;
}

/*
 * The write stopped exactly at the start of the first large folio that the
 * free space does not hold whole (-ENOSPC when that is the write's first),
 * with room for more, and i_size covers what it reports.
 */
static bool iwt_sig_enospc_folio(const struct iwt_obs *o)
{
	loff_t end = o->pos + (loff_t)o->stop;

	return !o->injected && o->stop_folio > PAGE_SIZE &&
	       (s64)o->stop < o->fits &&
	       o->ret == (o->stop ? (ssize_t)o->stop : -ENOSPC) &&
	       o->size == (o->stop ? max(o->old_size, end) : o->old_size);
}

/*
 * A read of [pos, pos + copyable) inside i_size stops at the start of the
 * folio that straddles s_maxbytes, and reading on returns all the rest.
 */
static bool iwt_sig_short_read(const struct iwt_obs *o)
{
	loff_t last = round_down(o->maxbytes, PAGE_SIZE);

	return !o->injected && (o->maxbytes & ~PAGE_MASK) &&
	       o->got < o->copyable && o->pos + (loff_t)o->got == last &&
	       o->rest == (ssize_t)(o->copyable - o->got) &&
	       o->pos + (loff_t)o->copyable <= o->size;
}

static bool iwt_sig_journal_start(const struct iwt_obs *o)
{
	if (!o->injected || o->ret != -ENOMEM || !o->copyable)
		return false;
	/* 6.12 starts the handle for a rejected short copy too: copied 0. */
	if (o->size == o->pos && o->copyable < o->room)
		return o->pos > o->old_size;
	return o->size == o->pos + (loff_t)min(o->copyable, o->room) &&
	       o->pos >= o->old_size;
}

static bool iwt_sig_convert_loss(const struct iwt_obs *o)
{
	return o->injected && !o->fsync_err && o->ret > 0 && o->diff.bad &&
	       o->diff.zeros == o->diff.bad &&
	       o->states == BIT(IWT_UNWRITTEN);
}

/*
 * fsync failed with -ENOMEM and the next one returned 0, and what the
 * write returned reads back as zeros from blocks not written.
 */
static bool iwt_sig_wb_enomem_loss(const struct iwt_obs *o)
{
	return o->injected && o->fsync_err == -ENOMEM && !o->refsync_err &&
	       o->ret > 0 && o->diff.bad && o->diff.zeros == o->diff.bad &&
	       o->states &&
	       !(o->states & ~(BIT(IWT_HOLE) | BIT(IWT_UNWRITTEN)));
}

/*
 * A short append raced by writeback: unwritten blocks past EOF, all of them
 * past the copy and inside the range the write asked for ([lo, hi)).
 */
static bool iwt_sig_wb_past_eof(const struct iwt_obs *o)
{
	return !o->injected && o->ret > 0 && o->ret == o->copyable &&
	       o->size == o->pos + o->ret && o->lo == o->size &&
	       o->concurrent > 0 && o->unw_lo < o->unw_hi &&
	       o->unw_lo >= o->size && o->unw_hi <= o->hi;
}

/*
 * What ext4 logs when writeback could not allocate a delayed range and
 * gives its data up: mpage_map_and_submit_extent() on the buffer_head
 * path, the series' ext4_iomap_map_writeback_range() on the iomap path.
 */
#define IWT_MSG_DA_FAILED	"Delayed block allocation failed"

static const struct iwt_known iwt_known[IWT_KI_NR] = {
	[IWT_KI_EFAULT_SIZE] = {
		.id = "efault-extends-size",
		.paths = IWT_BH_DA | IWT_BH_NODA,
		.since = KERNEL_VERSION(6, 15, 0),
		.commit =
			"665575cff098 (\"filemap: move prefaulting out of hot write path\")",
		.match = iwt_sig_efault_size,
		.text =
			"a write at pos > i_size whose first byte faults returns -EFAULT but sets i_size to pos: generic_perform_write() faults the source in only after ->write_end(copied == 0), and ext4's write_end extends i_size to pos + 0",
	},
	[IWT_KI_FAILED_WRITE_SIZE] = {
		.id = "failed-write-extends-size",
		.paths = IWT_BH_NODA,
		/* First affected release not bisected; 6.12 LTS has the code. */
		.since = KERNEL_VERSION(6, 12, 0),
		.frames = { "ext4_write_begin", "generic_perform_write" },
		.match = iwt_sig_failed_write_size,
		.text =
			"nodelalloc: a short copy into a folio that is not uptodate is rejected by ext4_write_end(), which still extends i_size to pos + 0; when the retry's ->write_begin() then fails, the write returns the error with i_size at pos",
	},
	[IWT_KI_IOMAP_FAILED_WRITE_SIZE] = {
		.id = "iomap-failed-write-extends-size",
		.paths = IWT_IOMAP_DA | IWT_IOMAP_NODA,
		/* Generic iomap code; reached through ext4 with the series. */
		.since = KERNEL_VERSION(7, 2, 0),
		/* iomap_write_iter() is inlined in iomap_file_buffered_write(). */
		.frames = { "iomap_write_begin", "iomap_file_buffered_write" },
		.match = iwt_sig_failed_write_size,
		.text =
			"iomap: a short copy into a folio that is not uptodate is rejected, yet iomap_write_iter() moves i_size to pos + 0 (\"pos + written > old_size\" with written == 0); when the retry's iomap_write_begin() then fails, the write returns the error with i_size at pos",
	},
	[IWT_KI_STALE_TAIL] = {
		.id = "iomap-stale-tail",
		.paths = IWT_IOMAP_DA | IWT_IOMAP_NODA,
		/*
		 * Blocks smaller than a page with order-0 folios; with large
		 * folios (x86_64) 4k blocks too.
		 */
		.block_in_folio = true,
		.since = KERNEL_VERSION(7, 2, 0),
		.match = iwt_sig_stale_tail,
		.text =
			"iomap, block smaller than the folio: a short copy that starts inside a block of a hole within i_size leaves the folio's old memory readable from pos + copied on, and the rest of the faulting block goes to disk that way (__iomap_write_begin() marks the blocks of [from, to) uptodate without zeroing them)",
	},
	[IWT_KI_ENOSPC_WHOLE] = {
		.id = "iomap-enospc-whole",
		.paths = IWT_IOMAP_DA,
		.since = KERNEL_VERSION(7, 2, 0),
		.match = iwt_sig_enospc_whole,
		.text =
			"iomap with delalloc: a write asking for more clusters than are free fails whole with -ENOSPC instead of writing as many bytes as there is room for",
	},
	[IWT_KI_ENOSPC_FOLIO] = {
		.id = "large-folio-enospc-short",
		.paths = IWT_BH_DA | IWT_BH_NODA,
		/*
		 * Needs ext4's large folios (ext4_set_inode_mapping_order()):
		 * not in 6.12, seen on 7.2; the releases between are not
		 * checked, so the row starts at 7.2.
		 */
		.since = KERNEL_VERSION(7, 2, 0),
		.match = iwt_sig_enospc_folio,
		.text =
			"buffer_head path with large folios: ->write_begin() reserves (delalloc) or allocates (nodelalloc) the blocks of the whole folio, so a write that runs out of space stops at the first folio that does not fit whole, -ENOSPC when that is its first, instead of writing as many bytes as there is room for",
	},
	[IWT_KI_SHORT_READ] = {
		.id = "iomap-short-read-at-maxbytes",
		.paths = IWT_IOMAP_DA | IWT_IOMAP_NODA,
		.small_blocks = true,
		.since = KERNEL_VERSION(7, 2, 0),
		.match = iwt_sig_short_read,
		.text =
			"iomap, 1k blocks: s_maxbytes is not page aligned, and a read inside i_size that reaches into the folio straddling it returns only the bytes before that folio; reading on returns the rest",
	},
	[IWT_KI_JOURNAL_START] = {
		.id = "journal-start-after-size",
		.paths = IWT_BH_DA,
		.journal = true,
		/*
		 * ext4_da_do_write_end() came with "ext4: do not mark inode
		 * dirty every time in delalloc append write scenario", in the
		 * ext4 tree as 40b14c55e3d0 for 6.6 (not checked against a
		 * 6.6 tree); seen on 6.12 and 7.2.
		 */
		.since = KERNEL_VERSION(6, 6, 0),
		.commit = "40b14c55e3d0 (ext4 tree id; mainline id not checked)",
		/*
		 * ext4_da_do_write_end() is inlined in ext4_da_write_end();
		 * __ext4_journal_start_sb() tail-calls jbd2__journal_start().
		 */
		.frames = { "jbd2__journal_start", "ext4_da_write_end" },
		.match = iwt_sig_journal_start,
		.text =
			"ext4_journal_start() failing in ext4_da_do_write_end() after i_size was moved over the copied bytes makes the write return -ENOMEM",
	},
	[IWT_KI_CONVERT_LOSS] = {
		.id = "convert-loss",
		.paths = IWT_BH_DA,
		.since = KERNEL_VERSION(6, 12, 0),
		/*
		 * 7.2 and later say "potential data loss!" (ext4_end_io_end());
		 * 6.12's ext4_put_io_end() does not reach that message, and
		 * only ext4_convert_unwritten_extents()' warning tells: its
		 * text, not the function's name, which the fault's call trace
		 * holds as well.
		 */
		.messages = {
			{ "ext4_ext_map_blocks returned", KERNEL_VERSION(6, 12, 0),
			  KERNEL_VERSION(7, 2, 0) },
			{ "potential data loss!", KERNEL_VERSION(7, 2, 0) },
		},
		.match = iwt_sig_convert_loss,
		.text =
			"an allocation failure converting unwritten extents at I/O completion is only logged: the folio is cleaned, fsync returns 0, and the data reads back as zeros from blocks left unwritten",
	},
	[IWT_KI_WB_PAST_EOF] = {
		.id = "iomap-writeback-past-short-write",
		.paths = IWT_IOMAP_DA,
		/* The series' ext4_iomap_map_writeback_range(); not in mainline. */
		.since = KERNEL_VERSION(7, 2, 0),
		.match = iwt_sig_wb_past_eof,
		.text =
			"iomap with delalloc: writeback that runs while a write is copying maps the delalloc extent up to wbc->range_end, past i_size, so it allocates the part of the write's reservation not yet copied; when the copy then comes up short, the punch of the stale delalloc range finds no delayed blocks there, and the blocks stay allocated (unwritten) past EOF until truncate or unlink",
	},
	[IWT_KI_WB_ENOMEM_LOSS] = {
		.id = "iomap-writeback-enomem-loss",
		.paths = IWT_IOMAP_DA,
		/*
		 * The series' ext4_iomap_map_writeback_range() takes every
		 * error of the delalloc allocation as final; the buffer_head
		 * path leaves the folios dirty on -ENOMEM and do_writepages()
		 * retries data-integrity writeback. Not in mainline.
		 */
		.since = KERNEL_VERSION(7, 2, 0),
		.messages = {
			{ IWT_MSG_DA_FAILED, KERNEL_VERSION(7, 2, 0) },
			{ "This should not happen!! Data will be lost",
			  KERNEL_VERSION(7, 2, 0) },
		},
		.match = iwt_sig_wb_enomem_loss,
		.text =
			"iomap with delalloc: an -ENOMEM allocating blocks at writeback is final: the delayed range is punched and the folio ended clean (\"Data will be lost\"), fsync returns -ENOMEM, the next fsync 0, and the data reads back as zeros; the buffer_head path retries and loses nothing",
	},
};

/**
 * iwt_kernel_in_range() - is the running kernel in a row's range?
 * @k: the row
 *
 * Return: true from the first affected release on.
 */
static bool iwt_kernel_in_range(const struct iwt_known *k)
{
	return iwt_kernel_version() >= k->since;
}

/**
 * iwt_frames_in() - does a call trace show @frames, innermost first?
 * @trace: console text holding the trace
 * @frames: function names, NULL-terminated or two at most
 *
 * Return: true when each name appears as "name+0x" after the previous one.
 */
static bool iwt_frames_in(const char *trace, const char *const *frames)
{
	char sym[64];
	unsigned int i;

	for (i = 0; i < 2 && frames[i]; i++) {
		snprintf(sym, sizeof(sym), "%s+0x", frames[i]);
		trace = strstr(trace, sym);
		if (!trace)
			return false;
		trace += strlen(sym);
	}
	return true;
}

/**
 * iwt_known_logged() - whether the console holds a row's kernel messages
 * @k: the row
 * @console: what the kernel logged
 *
 * Return: true when @console holds each of @k's messages that the running
 * kernel logs (those whose version range it is in), or @k names none.
 */
static bool iwt_known_logged(const struct iwt_known *k, const char *console)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(k->messages) && k->messages[i].text; i++)
		if (iwt_kernel_version() >= k->messages[i].since &&
		    (!k->messages[i].until ||
		     iwt_kernel_version() < k->messages[i].until) &&
		    !strstr(console ?: "", k->messages[i].text))
			return false;
	return true;
}

/**
 * iwt_known_mismatch() - why an outcome is not a row's known issue
 * @k: the row
 * @mode: the case's mount mode
 * @geo: the case's geometry
 * @o: what the case saw
 *
 * Return: NULL when every element of the row matches, else the first
 * element that does not.
 */
static const char *iwt_known_mismatch(const struct iwt_known *k,
				      const struct iwt_mode *mode,
				      const struct iwt_geometry *geo,
				      const struct iwt_obs *o)
{
	unsigned int path = iwt_mode_bit(mode);

	if (!(k->paths & path))
		return "write path not affected";
	if (k->journal && !geo->journal)
		return "needs a journal";
	if (k->small_blocks && geo->block_size >= PAGE_SIZE)
		return "needs blocks smaller than a page";
	if (k->block_in_folio && geo->block_size >= o->folio)
		return "needs blocks smaller than the folio";
	if (!iwt_kernel_in_range(k))
		return "kernel older than the first affected release";
	if (!k->match(o))
		return "values differ from the signature";
	if (k->frames[0] && !iwt_frames_in(o->console ?: "", k->frames))
		return "the injected fault's call trace does not show the site";
	if (!iwt_known_logged(k, o->console))
		return "the kernel did not log the issue's message";
	return NULL;
}

static bool iwt_strict(void)
{
	return known && !strcmp(known, "fail");
}

/**
 * iwt_known_issue() - is this departure exactly a known issue?
 * @fs: the case's filesystem
 * @ki: the row the case suspects
 * @o: what the case saw
 *
 * Return: true, with the issue noted for the case's verdict, when every
 * element of the row matches; false, with the reason logged, when the
 * caller must fail the case as for any other departure.
 */
static bool iwt_known_issue(struct iwt_fs *fs, enum iwt_ki ki,
			    const struct iwt_obs *o)
{
	const struct iwt_known *k = &iwt_known[ki];
	/*
	 * The unwritten conversion at I/O completion belongs to the mount
	 * (dioread_nolock needs a delalloc mount), also for writes that
	 * ext4_nonda_switch() sent the nodelalloc way.
	 */
	const struct iwt_env *env = ki == IWT_KI_CONVERT_LOSS ? fs->mounted : fs->env;
	const char *why = iwt_known_mismatch(k, env->mode, env->geo, o);

	if (why) {
		kunit_info(fs->test, "not known-issue:%s: %s (ret %zd, i_size %lld -> %lld, pos %lld, copyable %zu, room %zu)",
			   k->id, why, o->ret, o->old_size, o->size, o->pos, o->copyable,
			   o->room);
		if (k->frames[0] && o->console)
			kunit_info(fs->test, "the console showed: %.1500s", o->console);
		return false;
	}
	if (!(fs->known & BIT(ki)))
		kunit_info(fs->test, "known-issue:%s: %s", k->id, k->text);
	fs->known |= BIT(ki);
	return true;
}

/**
 * iwt_read_on() - after a short read, read the rest
 * @fs: the case's filesystem
 * @file: the file
 * @buf: the buffer of the whole read
 * @len: bytes asked for
 * @pos: where the read started
 * @got: bytes it returned
 *
 * A regular file returns fewer bytes than asked only at EOF: a short read
 * inside i_size fails the case unless it is exactly a known issue.
 *
 * Return: bytes the second read returned.
 */
static ssize_t iwt_read_on(struct iwt_fs *fs, struct file *file, u8 *buf,
			   size_t len, loff_t pos, size_t got)
{
	loff_t rpos = pos + got;
	struct iwt_obs o = {
		.copyable = len,
		.pos = pos,
		.size = i_size_read(file_inode(file)),
		.got = got,
		.rest = kernel_read(file, buf + got, len - got, &rpos),
		.maxbytes = fs->sb->s_maxbytes,
	};

	if (!iwt_known_issue(fs, IWT_KI_SHORT_READ, &o))
		KUNIT_FAIL_AND_ABORT(fs->test,
				     "read of %zu bytes at offset %lld (i_size %lld) returned %zu; reading on from offset %lld returned %zd",
				     len, pos, o.size, got, pos + (loff_t)got, o.rest);
	return o.rest;
}

/**
 * iwt_finish() - the case's verdict on the known issues it met
 * @fs: the case's filesystem
 *
 * A case that met known issues and passed every other check is skipped
 * with "known-issue:<ids>" as its reason, or fails in strict mode
 * (known=fail). A case that failed anyway stays failed.
 */
static void iwt_finish(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	char ids[128] = "";
	unsigned int ki;

	iwt_expect_no_warn(fs);
	if (!fs->known || READ_ONCE(test->status) == KUNIT_FAILURE)
		return;
	for_each_set_bit(ki, &fs->known, IWT_KI_NR)
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
			 ids[0] ? "," : "", iwt_known[ki].id);
	if (iwt_strict())
		KUNIT_FAIL(test, "known-issue:%s met, and known=fail (strict mode)", ids);
	else
		kunit_mark_skipped(test, "known-issue:%s", ids);
	/* The status line holds the ids only; the log has what they mean. */
	for_each_set_bit(ki, &fs->known, IWT_KI_NR)
		kunit_info(test, "known-issue:%s: %s", iwt_known[ki].id,
			   iwt_known[ki].text);
}

static enum iwt_state iwt_fe_state(const struct fiemap_extent *fe)
{
	if (fe->fe_flags & EXT4_FIEMAP_EXTENT_HOLE)
		return IWT_HOLE;
	if (fe->fe_flags & FIEMAP_EXTENT_DELALLOC)
		return IWT_DELAYED;
	if (fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN)
		return IWT_UNWRITTEN;
	return IWT_WRITTEN;
}

/**
 * iwt_es_state() - one block in the extent-status tree
 * @fs: the case's filesystem
 * @file: the file
 * @lblk: logical block
 *
 * Asks EXT4_IOC_GET_ES_CACHE, as user space would, through the file's
 * ioctl with a struct fiemap in user memory.
 *
 * Return: the cached state; a block the tree does not hold reads as a hole.
 */
static enum iwt_state iwt_es_state(struct iwt_fs *fs, struct file *file,
				   u64 lblk)
{
	struct kunit *test = fs->test;
	unsigned int bits = file_inode(file)->i_blkbits;
	struct {
		struct fiemap fm;
		struct fiemap_extent fe;
	} q = { .fm = { .fm_start = lblk << bits, .fm_length = 1ULL << bits,
			.fm_extent_count = 1 } };
	void __user *ubuf = (void __user *)fs->scratch;

	KUNIT_ASSERT_EQ(test, copy_to_user(ubuf, &q, sizeof(q)), 0);
	KUNIT_ASSERT_EQ_MSG(test, file->f_op->unlocked_ioctl(file, EXT4_IOC_GET_ES_CACHE,
							     (unsigned long)ubuf), 0,
			    "EXT4_IOC_GET_ES_CACHE of block %llu", lblk);
	KUNIT_ASSERT_EQ(test, copy_from_user(&q, ubuf, sizeof(q)), 0);
	return q.fm.fm_mapped_extents ? iwt_fe_state(&q.fe) : IWT_HOLE;
}

/**
 * iwt_block_state() - the mapping of one logical block
 * @fs: the case's filesystem
 * @file: the file
 * @lblk: logical block
 *
 * ext4_fiemap() reports delayed extents from the extent-status tree and
 * everything else from the on-disk extent tree; the extent-status tree
 * itself (EXT4_IOC_GET_ES_CACHE) must agree on what is delayed.
 *
 * Return: the block's state.
 */
static enum iwt_state iwt_block_state(struct iwt_fs *fs, struct file *file,
				      u64 lblk)
{
	struct kunit *test = fs->test;
	struct inode *inode = file_inode(file);
	unsigned int bits = inode->i_blkbits;
	struct fiemap_extent fe;
	struct fiemap_extent_info fei = {
		.fi_extents_max = 1,
		.fi_extents_start = (struct fiemap_extent __user *)fs->scratch,
	};
	enum iwt_state st = IWT_HOLE, es;

	KUNIT_ASSERT_EQ_MSG(test, inode->i_op->fiemap(inode, &fei, lblk << bits,
						      1ULL << bits), 0,
			    "fiemap of block %llu", lblk);
	if (fei.fi_extents_mapped) {
		KUNIT_ASSERT_EQ(test, copy_from_user(&fe, fei.fi_extents_start,
						     sizeof(fe)), 0);
		st = iwt_fe_state(&fe);
	}
	es = iwt_es_state(fs, file, lblk);
	KUNIT_EXPECT_EQ_MSG(test, es == IWT_DELAYED, st == IWT_DELAYED,
			    "block %llu: extent-status %s, fiemap %s",
			    lblk, iwt_state_names[es], iwt_state_names[st]);
	return st;
}

/**
 * enum iwt_kind - where a scenario's short write lands
 * @IWT_APPEND: beyond EOF of an empty file
 * @IWT_HOLE_IN_SIZE: into a hole inside i_size (the file was truncated up)
 * @IWT_OVERWRITE: over written blocks whose folios are not cached
 * @IWT_OVER_UNWRITTEN: over unwritten (fallocated) blocks inside i_size
 * @IWT_BEFORE_DIRTY: into a hole that ends where dirty blocks, not yet
 *	written back, begin: with delalloc the write's delayed extent joins
 *	theirs in the extent-status tree, so dropping its stale part (the
 *	iomap path) splits one cached extent (see iwt_dirty_after())
 */
enum iwt_kind {
	IWT_APPEND,
	IWT_HOLE_IN_SIZE,
	IWT_OVERWRITE,
	IWT_OVER_UNWRITTEN,
	IWT_BEFORE_DIRTY,
};

/**
 * enum iwt_limit - what stops a write whose source is fully mapped
 * @IWT_FAULT: nothing: the source itself ends (its tail is unmapped)
 * @IWT_RLIMIT_FSIZE: RLIMIT_FSIZE at the end of the copy
 * @IWT_MAXBYTES: the filesystem's s_maxbytes at the end of the copy
 * @IWT_NOSPACE: a filler leaves %IWT_ENOSPC_ROOM clusters free
 */
enum iwt_limit {
	IWT_FAULT,
	IWT_RLIMIT_FSIZE,
	IWT_MAXBYTES,
	IWT_NOSPACE,
};

/* Clusters left free for ENOSPC writes, and what the ENOSPC case asks for. */
#define IWT_ENOSPC_ROOM		16
#define IWT_ENOSPC_ASK		(4 * IWT_ENOSPC_ROOM)

/**
 * enum iwt_then - what follows the short write and its fsync
 * @IWT_THEN_NOTHING: drop the cache, read back, truncate up
 * @IWT_THEN_REWRITE: write the whole range again from a full source
 * @IWT_THEN_TRUNCATE: truncate to the write position
 * @IWT_THEN_PUNCH: punch a hole over the range asked for
 * @IWT_THEN_EVICT: close, evict the inode, open again
 */
enum iwt_then {
	IWT_THEN_NOTHING,
	IWT_THEN_REWRITE,
	IWT_THEN_TRUNCATE,
	IWT_THEN_PUNCH,
	IWT_THEN_EVICT,
};

/**
 * struct iwt_site - a point a fail-nth sweep must fail at least once
 * @what: what the console shows for that step's injected fault: a
 *	function in its call trace, or the fault's name
 * @paths: the write paths (IWT_BH_DA, ...) that reach it
 * @of_mount: @paths are the mount's mode, not the one the writes take
 *	(ext4_nonda_switch() changes how writes reserve blocks, not how
 *	writeback converts them)
 * @logged: where set, the step must also have logged that row's kernel
 *	messages (iwt_known_logged()): the fault made the operation fail,
 *	and did not only hit a point whose failure is retried
 */
struct iwt_site {
	const char *what;
	unsigned int paths;
	bool of_mount;
	const struct iwt_known *logged;
};

/* Sites a scenario can name. */
#define IWT_SITES		2

/*
 * A failed unwritten conversion at I/O completion. With delalloc the
 * buffer_head path allocates at writeback, unwritten (dioread_nolock, the
 * default; ext4_should_dioread_nolock() is false without delalloc), and
 * converts once the I/O is done. brd completes a bio inside
 * submit_bio(), so the submitter drops the io_end's last reference
 * (ext4_put_io_end() in ext4_do_writepages()) and the conversion's
 * allocations are points of the fsync's task, which fail-nth counts.
 * Every scenario that has writeback allocate reaches it. Not every point
 * under the conversion fails it (the extent-status cache retries a failed
 * allocation with __GFP_NOFAIL), so the step must also have logged the
 * failure: the message convert-loss names, which the kernel logs whatever
 * fsync then returns.
 */
#define IWT_SITE_CONVERT	{ "ext4_convert_unwritten_io_end_vec", IWT_BH_DA, true, \
				  &iwt_known[IWT_KI_CONVERT_LOSS] }

/**
 * struct iwt_scenario - one short write
 * @name: case-name suffix
 * @kind: where it writes
 * @copy: bytes the source lets copy_from_user() read, as a function of
 *	the block size (so one row fits every geometry)
 * @limit: what stops the write (with a limit, the source is fully mapped)
 * @skew: bytes added to the write position, as a function of the block
 *	size (NULL: none), so that the write starts inside a folio or a block
 * @then: what follows the write and its fsync
 * @bio_faults: in a fail-nth sweep, the ramdisk's bios are injection
 *	points too while the write runs (fail_make_request), so reading the
 *	rest of a partially written block can fail
 * @sites: in a fail-nth sweep, the points one step at least must fail
 *	on the paths that reach them (see iwt_site_wanted())
 */
struct iwt_scenario {
	const char *name;
	enum iwt_kind kind;
	size_t (*copy)(unsigned int bs);
	enum iwt_limit limit;
	size_t (*skew)(unsigned int bs);
	enum iwt_then then;
	bool bio_faults;
	struct iwt_site sites[IWT_SITES];
};

static size_t iwt_at_first_byte(unsigned int bs) { return 0; }
static size_t iwt_at_mid_block(unsigned int bs) { return bs + bs / 2 + 3; }
static size_t iwt_at_block(unsigned int bs) { return 2 * bs; }
static size_t iwt_at_folio(unsigned int bs) { return PAGE_SIZE; }
static size_t iwt_one_block(unsigned int bs) { return bs; }
/* A full write of several blocks: the source is all there. */
static size_t iwt_full(unsigned int bs) { return 3 * bs + 100; }
/* More than %IWT_ENOSPC_ROOM clusters of the largest cluster ratio. */
static size_t iwt_past_room(unsigned int bs) { return 1024 * bs; }
static size_t iwt_in_block(unsigned int bs) { return bs / 4 + 44; }

static const struct iwt_scenario iwt_scenarios[] = {
	{ "append/fault@first-byte",   IWT_APPEND,	 iwt_at_first_byte },
	{ "append/fault@mid-block",    IWT_APPEND,	 iwt_at_mid_block },
	{ "append/fault@block",	       IWT_APPEND,	 iwt_at_block },
	{ "append/fault@folio",	       IWT_APPEND,	 iwt_at_folio },
	{ "append/rlimit-fsize",       IWT_APPEND,	 iwt_at_mid_block, IWT_RLIMIT_FSIZE },
	{ "append/s_maxbytes",	       IWT_APPEND,	 iwt_at_mid_block, IWT_MAXBYTES },
	{ "append/fault@mid-block/then-rewrite", IWT_APPEND, iwt_at_mid_block,
	  .then = IWT_THEN_REWRITE },
	{ "append/fault@mid-block/then-truncate", IWT_APPEND, iwt_at_mid_block,
	  .then = IWT_THEN_TRUNCATE },
	{ "append/fault@mid-block/then-punch", IWT_APPEND, iwt_at_mid_block,
	  .then = IWT_THEN_PUNCH },
	{ "append/fault@mid-block/then-evict", IWT_APPEND, iwt_at_mid_block,
	  .then = IWT_THEN_EVICT },
	{ "append@in-folio/fault@mid-block", IWT_APPEND, iwt_at_mid_block,
	  .skew = iwt_one_block },
	{ "append@in-block/fault@mid-block", IWT_APPEND, iwt_at_mid_block,
	  .skew = iwt_in_block },
	{ "hole/fault@mid-block",      IWT_HOLE_IN_SIZE, iwt_at_mid_block },
	{ "hole@in-folio/fault@mid-block", IWT_HOLE_IN_SIZE, iwt_at_mid_block,
	  .skew = iwt_one_block },
	{ "hole@in-block/fault@mid-block", IWT_HOLE_IN_SIZE, iwt_at_mid_block,
	  .skew = iwt_in_block },
	{ "overwrite/fault@mid-block", IWT_OVERWRITE,	 iwt_at_mid_block },
	{ "unwritten/fault@mid-block", IWT_OVER_UNWRITTEN,	 iwt_at_mid_block },
};

/* The writes the fail-nth sweep runs. */
static const struct iwt_scenario iwt_sweep_scenarios[] = {
	{ "append/full",	       IWT_APPEND,	   iwt_full,
	  .sites = { IWT_SITE_CONVERT } },
	{ "append/fault@mid-block",    IWT_APPEND,	   iwt_at_mid_block,
	  .sites = { IWT_SITE_CONVERT } },
	{ "hole/fault@mid-block",      IWT_HOLE_IN_SIZE,   iwt_at_mid_block,
	  .sites = { IWT_SITE_CONVERT } },
	{ "overwrite/full",	       IWT_OVERWRITE,	   iwt_full },
	{ "unwritten/full",	       IWT_OVER_UNWRITTEN, iwt_full,
	  .sites = { IWT_SITE_CONVERT } },
	{ "append/enospc",	       IWT_APPEND,	   iwt_past_room, IWT_NOSPACE,
	  .sites = { IWT_SITE_CONVERT } },
	/* The punch of the stale range splits the delayed extent. */
	{ "before-dirty/fault@mid-block", IWT_BEFORE_DIRTY, iwt_at_mid_block,
	  .sites = { { "ext4_es_remove_extent", IWT_IOMAP_DA }, IWT_SITE_CONVERT } },
	/* Reading the rest of the last, partial block fails. */
	{ "overwrite/read-error",      IWT_OVERWRITE,	   iwt_full,
	  .bio_faults = true,
	  .sites = { { "name fail_make_request",
		       IWT_BH_DA | IWT_BH_NODA | IWT_IOMAP_DA | IWT_IOMAP_NODA } } },
};

/* Where scenarios write: far enough in for a hole before it. */
#define IWT_POS_BLOCKS		8
/* How far past the copyable bytes a write asks for, in blocks. */
#define IWT_EXTRA_BLOCKS	3
/* i_size of the hole and overwrite files, in blocks. */
#define IWT_SIZE_BLOCKS		32

/**
 * struct iwt_case - a scenario on a mode and geometry
 * @sc: the scenario
 * @env: mode and geometry
 */
struct iwt_case {
	const struct iwt_scenario *sc;
	struct iwt_env env;
};

static struct iwt_case iwt_case_params[ARRAY_SIZE(iwt_scenarios) *
				       ARRAY_SIZE(iwt_envs)];
static struct iwt_case iwt_sweep_params[ARRAY_SIZE(iwt_sweep_scenarios) *
					ARRAY_SIZE(iwt_envs)];
static unsigned int iwt_nr_sweeps;

static unsigned int iwt_fill_cases(struct iwt_case *dst,
				   const struct iwt_scenario *sc,
				   unsigned int nr_sc)
{
	unsigned int s, e, i = 0;

	for (e = 0; e < ARRAY_SIZE(iwt_envs); e++) {
		for (s = 0; s < nr_sc; s++) {
			dst[i].sc = &sc[s];
			dst[i++].env = iwt_envs[e];
		}
	}
	return i;
}

static void iwt_init_cases(void)
{
	iwt_fill_cases(iwt_case_params, iwt_scenarios,
		       ARRAY_SIZE(iwt_scenarios));
	iwt_nr_sweeps = iwt_fill_cases(iwt_sweep_params, iwt_sweep_scenarios,
				       ARRAY_SIZE(iwt_sweep_scenarios));
}

static const void *iwt_next_case(const struct iwt_case *prev,
				 const struct iwt_case *first,
				 unsigned int nr, char *desc)
{
	const struct iwt_case *c = prev ? prev + 1 : first;

	if (c >= first + nr)
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s/%s", c->env.mode->name,
		 c->env.geo->name, c->sc->name);
	return c;
}

static const void *iwt_case_gen(IWT_GEN_ARGS)
{
	return iwt_next_case(prev, iwt_case_params,
			     ARRAY_SIZE(iwt_case_params), desc);
}

static const void *iwt_sweep_gen(IWT_GEN_ARGS)
{
	return iwt_next_case(prev, iwt_sweep_params, iwt_nr_sweeps, desc);
}

/**
 * struct iwt_expect - what a path must leave after a short write
 * @folio: size of the folio that took the short copy
 * @stale_end: logical block past the last block that the write reserved
 *	or allocated without copying into it: the end of the folio that took
 *	the short copy, within the range asked for
 * @past_eof: states allowed, after fsync, for those blocks beyond EOF
 * @inside: states allowed, after fsync, for those blocks inside i_size
 * @kept_past_eof: whether those blocks beyond EOF keep their delayed
 *	reservation after fsync
 * @either: the copy ended at a folio boundary, or nothing was copied, and
 *	the folio after the copy (the first one) was either instantiated for
 *	a copy of nothing (->write_begin() before the fault-in: 7.x) or
 *	never touched (fault-in first: 6.12, iomap); all of its blocks, or
 *	none, are then as described above
 * @one_extent: the blocks past the copy were allocated by one
 *	ext4_map_blocks() call (iomap without delalloc), which may end
 *	before the write's range does: past it they are holes
 */
struct iwt_expect {
	loff_t folio;
	u64 stale_end;
	unsigned int past_eof;
	unsigned int inside;
	bool kept_past_eof;
	bool either;
	bool one_extent;
};

/*
 * The semantics under test, per path (the table in README.md):
 *
 * A write whose first byte faults fails with -EFAULT and changes neither
 * i_size nor data (iomap_write_iter() and 6.12's generic_perform_write()
 * fault the source in before ->write_begin(); 7.x's does it only after a
 * rejected copy, so its first folio took a short copy of nothing, whose
 * blocks are as below: see also IWT_KI_EFAULT_SIZE). Otherwise the first
 * attempt covers the whole folio range; a short copy into a !uptodate
 * folio is retried with the copied length, so the write returns exactly
 * the bytes copied, and the blocks of that folio past the copy were
 * reserved or allocated for nothing. Which folio that is comes from the page cache, the one input
 * taken from the kernel: its size is the page cache's choice, not part of
 * the semantics under test.
 *
 * buffer_head, delalloc: those blocks keep their delayed reservation
 *   (zeroed, dirty buffers). Writeback allocates only blocks below i_size
 *   (mpage_process_page_bufs(), "lblk >= blocks"): inside i_size the
 *   reservation is consumed and the blocks written as zeros; beyond EOF it
 *   is kept until rewritten, truncated or evicted (Zhang Yi, linux-ext4,
 *   2 Jun 2026, replying to Ojaswin Mujoo on v4 08/23).
 * iomap, delalloc: the stale delalloc range is dropped at once with its
 *   reservation (v4 08/23 "Short write and write failure handling", a.).
 * buffer_head, nodelalloc: ext4_write_begin() allocated them; zeroed and
 *   written inside i_size; beyond EOF ext4_write_end() truncates them
 *   (ext4_truncate_failed_write()).
 * iomap, nodelalloc: ->iomap_begin() allocated the whole mapping of the
 *   write unwritten (as with dioread_nolock) and nothing is cleaned up
 *   (v4 08/23, b.): unwritten, never written, reading as zeros; unlink or
 *   truncate frees them (series 0004 ext4_iomap_get_blocks()).
 */
static void iwt_expectation(const struct iwt_env *env, struct inode *inode,
			    loff_t pos, size_t copied, size_t asked, bool began,
			    struct iwt_expect *e)
{
	unsigned int bits = inode->i_blkbits;
	loff_t end = pos + asked;
	bool iomap = (env->mode->path == IWT_IOMAP) != iwt_planted("swap-paths");
	loff_t fstart, fsize = iwt_folio_span(inode->i_mapping, pos + copied, &fstart);

	/*
	 * The folio that took the short copy bounds the stale range. A write
	 * that copied nothing leaves nothing when the source was faulted in
	 * before ->write_begin() (iomap_write_iter(), 6.12's
	 * generic_perform_write()). 7.x's buffer_head path runs
	 * ->write_begin() for the first folio before the fault shows: that
	 * folio then took a short copy of nothing, and its blocks are as past
	 * any short copy (all of them). @began says it certainly ran (i_size
	 * moved: efault-extends-size); otherwise either is allowed.
	 */
	if (iomap && !env->mode->delalloc)
		; /* ->iomap_begin() mapped all of it before any copy */
	else if (copied || began || !iomap)
		end = min_t(loff_t, end, fstart + fsize);
	else
		end = pos;
	e->folio = fsize;
	e->stale_end = (end + (1 << bits) - 1) >> bits;
	e->kept_past_eof = env->mode->delalloc && !iomap;
	if (iomap && env->mode->delalloc) {
		e->past_eof = BIT(IWT_HOLE);
		e->inside = BIT(IWT_HOLE);
	} else if (iomap) {
		/* The whole mapping was allocated unwritten, and stays so. */
		e->past_eof = BIT(IWT_UNWRITTEN);
		e->inside = BIT(IWT_UNWRITTEN);
		e->one_extent = true;
	} else {
		e->past_eof = BIT(e->kept_past_eof ? IWT_DELAYED : IWT_HOLE);
		e->inside = BIT(IWT_WRITTEN);
	}
	e->either = !iomap && end > pos + (loff_t)copied &&
		    ((copied && pos + (loff_t)copied == fstart) ||
		     (!copied && !began));
	if (e->either) {
		e->past_eof |= BIT(IWT_HOLE);
		e->inside |= BIT(IWT_HOLE);
	}
}

/**
 * iwt_expect_states() - every block in [@from, @to) is in one of @allowed
 * @fs: the case's filesystem
 * @file: the file
 * @from: first logical block
 * @to: block past the last
 * @allowed: bit mask of &enum iwt_state
 * @what: the range's role, for the failure message
 *
 * Return: how many of the blocks are delayed.
 */
static u64 iwt_expect_states(struct iwt_fs *fs, struct file *file, u64 from,
			     u64 to, unsigned int allowed, const char *what)
{
	u64 lblk, delayed = 0;

	for (lblk = from; lblk < to; lblk++) {
		enum iwt_state st = iwt_block_state(fs, file, lblk);

		delayed += st == IWT_DELAYED;
		if (!(BIT(st) & allowed)) {
			char want[40] = "";
			unsigned int i;

			for (i = 0; i < ARRAY_SIZE(iwt_state_names); i++)
				if (allowed & BIT(i))
					snprintf(want + strlen(want), sizeof(want) - strlen(want),
						 "%s%s", want[0] ? "|" : "", iwt_state_names[i]);
			KUNIT_FAIL(fs->test, "block %llu (%s): expected %s, saw %s",
				   lblk, what, want, iwt_state_names[st]);
			break;
		}
	}
	return delayed;
}

/* Blocks iwt_expect_disk_extents() compares at most. */
#define IWT_DISK_BLOCKS		64

/**
 * struct iwt_disk_map - logical blocks whose on-disk state is wanted
 * @from: first logical block
 * @to: block past the last
 * @st: their states, %IWT_HOLE unless an extent covers them
 */
struct iwt_disk_map {
	u64 from;
	u64 to;
	enum iwt_state st[IWT_DISK_BLOCKS];
};

/**
 * iwt_walk_extents() - fill @map from one node of an extent tree
 * @test: the running case
 * @bdev: the ramdisk, opened for reading
 * @bs: block size
 * @eh: the node: its header, then its entries
 * @room: bytes the node may span
 * @level: levels left to descend, so that a corrupt tree cannot loop
 * @map: what is wanted, and the states found
 */
static void iwt_walk_extents(struct kunit *test, struct file *bdev,
			     unsigned int bs, struct ext4_extent_header *eh,
			     size_t room, unsigned int level,
			     struct iwt_disk_map *map)
{
	unsigned int i, n = le16_to_cpu(eh->eh_entries);
	u64 lblk;

	KUNIT_ASSERT_EQ_MSG(test, eh->eh_magic, EXT4_EXT_MAGIC,
			    "extent node magic on disk");
	KUNIT_ASSERT_LE_MSG(test, sizeof(*eh) + n * sizeof(struct ext4_extent), room,
			    "entries of an extent node on disk");
	KUNIT_ASSERT_GT_MSG(test, level, 0U, "extent tree depth on disk");
	if (!eh->eh_depth) {
		struct ext4_extent *ex = (void *)(eh + 1);

		for (i = 0; i < n; i++) {
			u32 first = le32_to_cpu(ex[i].ee_block);
			u32 len = le16_to_cpu(ex[i].ee_len);
			bool unwritten = len > EXT_INIT_MAX_LEN;

			len -= unwritten ? EXT_INIT_MAX_LEN : 0;
			for (lblk = max_t(u64, first, map->from);
			     lblk < min_t(u64, (u64)first + len, map->to); lblk++)
				map->st[lblk - map->from] = unwritten ? IWT_UNWRITTEN :
									IWT_WRITTEN;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		struct ext4_extent_idx *ix = (void *)(eh + 1);
		u64 leaf = le32_to_cpu(ix[i].ei_leaf_lo) |
			   ((u64)le16_to_cpu(ix[i].ei_leaf_hi) << 32);
		void *node = kunit_kmalloc(test, bs, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, node);
		iwt_read_disk(test, bdev, leaf * bs, node, bs);
		iwt_walk_extents(test, bdev, bs, node, bs, level - 1, map);
		kunit_kfree(test, node);
	}
}

/**
 * iwt_expect_disk_extents() - the on-disk extent tree agrees with fiemap
 * @fs: the case's filesystem, after fsync
 * @file: the file
 * @from: first logical block
 * @to: block past the last
 *
 * Reads the file's inode and extent tree off the ramdisk (a second,
 * shared open of it; the filesystem's metadata buffers are the ramdisk's
 * page cache) and parses them here, not through ext4's extent code. Each
 * block must be written, unwritten or a hole there as fiemap says, a
 * delayed block being a hole on disk.
 */
static void iwt_expect_disk_extents(struct iwt_fs *fs, struct file *file,
				    u64 from, u64 to)
{
	struct kunit *test = fs->test;
	unsigned long ino = file_inode(file)->i_ino;
	struct iwt_disk_map *map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	struct ext4_super_block *es = kunit_kmalloc(test, sizeof(*es), GFP_KERNEL);
	struct ext4_group_desc gd;
	struct ext4_inode *raw;
	u32 bs, ipg, isz, group;
	struct file *bdev;
	u64 lblk;

	KUNIT_ASSERT_NOT_NULL(test, map);
	KUNIT_ASSERT_NOT_NULL(test, es);
	map->from = from;
	map->to = min_t(u64, to, from + IWT_DISK_BLOCKS);
	bdev = bdev_file_open_by_dev(iwt_rd.dev, BLK_OPEN_READ, NULL, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(bdev), "shared open of the ramdisk: %d",
			       PTR_ERR_OR_ZERO(bdev));
	iwt_read_disk(test, bdev, 1024, es, sizeof(*es));
	bs = 1024U << le32_to_cpu(es->s_log_block_size);
	ipg = le32_to_cpu(es->s_inodes_per_group);
	isz = le16_to_cpu(es->s_inode_size);
	group = (ino - 1) / ipg;
	iwt_read_disk(test, bdev, (loff_t)(1024 / bs + 1) * bs +
		      group * EXT4_MIN_DESC_SIZE, &gd, EXT4_MIN_DESC_SIZE);
	raw = kunit_kzalloc(test, max_t(u32, isz, sizeof(*raw)), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, raw);
	iwt_read_disk(test, bdev, (loff_t)le32_to_cpu(gd.bg_inode_table_lo) * bs +
		      (loff_t)((ino - 1) % ipg) * isz, raw, isz);
	KUNIT_ASSERT_TRUE_MSG(test, le32_to_cpu(raw->i_flags) & EXT4_EXTENTS_FL,
			      "inode %lu on disk has no extent tree", ino);
	iwt_walk_extents(test, bdev, bs, (void *)raw->i_block, sizeof(raw->i_block),
			 5, map);
	iwt_close(bdev);
	for (lblk = map->from; lblk < map->to; lblk++) {
		enum iwt_state st = iwt_block_state(fs, file, lblk);

		if (st == IWT_DELAYED)
			st = IWT_HOLE;
		KUNIT_EXPECT_EQ_MSG(test, map->st[lblk - from], st,
				    "block %llu of inode %lu: %s in the extent tree on disk, %s by fiemap",
				    lblk, ino, iwt_state_names[map->st[lblk - from]],
				    iwt_state_names[st]);
	}
}

/* Blocks iwt_expect_states_reread() compares at most. */
#define IWT_REREAD_BLOCKS	32

/**
 * iwt_expect_states_reread() - block states survive dropping the
 *	extent-status cache
 * @fs: the case's filesystem
 * @file: the file
 * @from: first logical block
 * @to: block past the last
 *
 * EXT4_IOC_CLEAR_ES_CACHE drops every cached extent that is not delayed,
 * so fiemap has to read the on-disk extent tree again: each block must
 * then show the state it showed before.
 */
static void iwt_expect_states_reread(struct iwt_fs *fs, struct file *file,
				     u64 from, u64 to)
{
	enum iwt_state before[IWT_REREAD_BLOCKS];
	u64 lblk;

	to = min_t(u64, to, from + IWT_REREAD_BLOCKS);
	/* fiemap takes no block at or past s_maxbytes. */
	to = min_t(u64, to, fs->sb->s_maxbytes >> file_inode(file)->i_blkbits);
	for (lblk = from; lblk < to; lblk++)
		before[lblk - from] = iwt_block_state(fs, file, lblk);
	KUNIT_ASSERT_EQ(fs->test, file->f_op->unlocked_ioctl(file, EXT4_IOC_CLEAR_ES_CACHE, 0),
			0);
	for (lblk = from; lblk < to; lblk++) {
		enum iwt_state st = iwt_block_state(fs, file, lblk);

		KUNIT_EXPECT_EQ_MSG(fs->test, st, before[lblk - from],
				    "block %llu: %s from the extent-status cache, %s once it was dropped",
				    lblk, iwt_state_names[before[lblk - from]],
				    iwt_state_names[st]);
	}
}

/**
 * iwt_kept_clusters() - clusters still reserved past EOF after writeback
 * @fs: the case's filesystem
 * @e: the path's expectation
 * @written_end: block past the last block written below EOF (0: none)
 * @from: first block past EOF
 *
 * A delayed block past EOF holds a reservation only when its cluster
 * holds no allocated block: with bigalloc, delayed blocks that share the
 * EOF block's cluster ride on that cluster's allocation.
 *
 * Return: the number of clusters that keep a reservation.
 */
static unsigned int iwt_kept_clusters(struct iwt_fs *fs,
				      const struct iwt_expect *e,
				      u64 written_end, u64 from)
{
	unsigned int cbits = ilog2(fs->env->geo->cluster_ratio);
	u64 first, last;

	if (!e->kept_past_eof || e->stale_end <= from)
		return 0;
	first = from >> cbits;
	last = (e->stale_end - 1) >> cbits;
	if (written_end && ((written_end - 1) >> cbits) == first)
		first++;
	return last >= first ? last - first + 1 : 0;
}

static const char *iwt_path_name(const struct iwt_env *env)
{
	return env->mode->path == IWT_IOMAP ? "iomap" : "buffer_head";
}

static void iwt_drop_cache(struct iwt_fs *fs, struct file *file)
{
	struct address_space *mapping = file->f_mapping;

	unsigned long index = 0;
	struct folio *folio;
	void *entry;

	KUNIT_ASSERT_EQ(fs->test, filemap_write_and_wait(mapping), 0);
	/*
	 * As fadvise(POSIX_FADV_DONTNEED) from user space: it also drains the
	 * per-CPU LRU batches, whose reference keeps a folio just read in.
	 */
	KUNIT_ASSERT_EQ(fs->test, vfs_fadvise(file, 0, 0, POSIX_FADV_DONTNEED), 0);
	if (!mapping->nrpages)
		return;
	/* Name the first folio left, skipping shadow entries. */
	rcu_read_lock();
	do {
		entry = xa_find(&mapping->i_pages, &index, ULONG_MAX, XA_PRESENT);
	} while (xa_is_value(entry) && ++index);
	rcu_read_unlock();
	folio = entry ? filemap_get_folio(mapping, index) : ERR_PTR(-ENOENT);
	if (IS_ERR(folio)) {
		KUNIT_FAIL(fs->test, "%lu folio(s) left after invalidation, expected none",
			   mapping->nrpages);
		return;
	}
	KUNIT_FAIL(fs->test,
		   "%lu folio(s) left after invalidation, expected none; first at offset %lld (i_size %lld): %s%s%s%s",
		   mapping->nrpages, folio_pos(folio), i_size_read(mapping->host),
		   folio_test_dirty(folio) ? "dirty " : "",
		   folio_test_uptodate(folio) ? "uptodate " : "not-uptodate ",
		   folio_test_private(folio) ? "with buffers/state " : "",
		   folio_test_writeback(folio) ? "writeback" : "");
	folio_put(folio);
}

/**
 * iwt_quota_reserved() - quota's view of an inode's reservation
 * @inode: the inode
 *
 * dquot_reserve_block() accounts reserved space in i_reserved_quota even
 * while no quota is turned on.
 *
 * Return: reserved bytes, or -1 without CONFIG_QUOTA.
 */
static s64 iwt_quota_reserved(struct inode *inode)
{
#ifdef CONFIG_QUOTA
	return EXT4_I(inode)->i_reserved_quota;
#else
	return -1;
#endif
}

/**
 * iwt_check_reservations() - the delalloc counters agree with each other
 * @fs: the case's filesystem
 * @file: the only file with data
 * @when: what happened before, for the failure message
 *
 * Reserved clusters of the only file equal the filesystem's dirty clusters
 * beyond the baseline and quota's reserved bytes; without delalloc nothing
 * is ever reserved.
 */
static void iwt_check_reservations(struct iwt_fs *fs, struct file *file,
				   const char *when)
{
	struct inode *inode = file_inode(file);
	unsigned int reserved = EXT4_I(inode)->i_reserved_data_blocks;
	unsigned int cbits = ilog2(fs->env->geo->cluster_ratio);
	s64 quota = iwt_quota_reserved(inode);

	if (quota >= 0)
		KUNIT_EXPECT_EQ_MSG(fs->test, quota,
				    (s64)reserved << (inode->i_blkbits + cbits),
				    "quota reserved bytes vs i_reserved_data_blocks %s",
				    when);

	KUNIT_EXPECT_EQ_MSG(fs->test, iwt_dirty_clusters(fs) - fs->base_dirty,
			    (s64)reserved,
			    "s_dirtyclusters_counter - baseline vs i_reserved_data_blocks %s",
			    when);
	if (!fs->env->mode->delalloc)
		KUNIT_EXPECT_EQ_MSG(fs->test, reserved, 0U,
				    "i_reserved_data_blocks without delalloc %s",
				    when);
}

static void iwt_prepare(struct iwt_fs *fs, struct file *file,
			const struct iwt_scenario *sc, loff_t size)
{
	struct kunit *test = fs->test;

	if (sc->kind == IWT_HOLE_IN_SIZE)
		KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, size), 0);
	if (sc->kind == IWT_OVER_UNWRITTEN)
		KUNIT_ASSERT_EQ(test, vfs_fallocate(file, 0, 0, size), 0);
	if (sc->kind == IWT_OVERWRITE) {
		KUNIT_ASSERT_EQ(test, iwt_write(file, iwt_user_buf(test, size, 0, 2),
						size, 0), (ssize_t)size);
		KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
		iwt_drop_cache(fs, file);
	}
}

static ssize_t iwt_limited_write(struct file *file, unsigned long ubuf,
				 size_t len, loff_t pos, loff_t limit)
{
	struct rlimit *rl = &current->signal->rlim[RLIMIT_FSIZE];
	struct rlimit old = *rl;
	ssize_t ret;

	rl->rlim_cur = limit;
	ret = iwt_write(file, ubuf, len, pos);
	*rl = old;
	return ret;
}

/* Folios a case poisons before its write, at most. */
#define IWT_POISON_FOLIOS	16

/**
 * struct iwt_poisoned - page-cache folios filled with %IWT_POISON
 * @nr: how many
 * @folio: the folios, each with a reference held until the check
 */
struct iwt_poisoned {
	unsigned int nr;
	struct folio *folio[IWT_POISON_FOLIOS];
};

static void iwt_poisoned_put(void *ctx)
{
	struct iwt_poisoned *p = ctx;

	while (p->nr)
		folio_put(p->folio[--p->nr]);
}

/**
 * iwt_poison_cache() - give a write page-cache folios full of poison
 * @fs: the case's filesystem
 * @file: the file
 * @pos: first byte the write may touch
 * @end: byte past the last
 *
 * Creates the folios over [@pos, @end) as a write would find freshly
 * allocated ones: in the page cache, not uptodate, holding whatever the
 * memory held, which here is %IWT_POISON, read back to prove it landed.
 * A byte that neither the write nor a read fills in then reads back as the
 * poison on every run, whatever pages the allocator hands out and even
 * with init_on_alloc. iwt_poison_release() says whether the write used
 * these very folios.
 *
 * Return: the folios, referenced until the case ends or the check.
 */
static struct iwt_poisoned *iwt_poison_cache(struct iwt_fs *fs,
					     struct file *file, loff_t pos,
					     loff_t end)
{
	struct kunit *test = fs->test;
	struct address_space *mapping = file->f_mapping;
	struct iwt_poisoned *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	pgoff_t index = pos >> PAGE_SHIFT;
	size_t off, i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_poisoned_put, p), 0);
	while ((loff_t)index << PAGE_SHIFT < end && p->nr < IWT_POISON_FOLIOS) {
		struct folio *folio;

		folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT |
					    fgf_set_order(end - ((loff_t)index << PAGE_SHIFT)),
					    mapping_gfp_mask(mapping));
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(folio),
				       "page-cache folio at index %lu: %d", index,
				       PTR_ERR_OR_ZERO(folio));
		KUNIT_ASSERT_FALSE_MSG(test, folio_test_uptodate(folio),
				       "the folio at index %lu is already uptodate", index);
		for (off = 0; off < folio_size(folio); off += PAGE_SIZE) {
			u8 *va = kmap_local_folio(folio, off);

			memset(va, IWT_POISON, PAGE_SIZE);
			for (i = 0; i < PAGE_SIZE && va[i] == IWT_POISON; i++)
				;
			kunmap_local(va);
			KUNIT_ASSERT_EQ_MSG(test, i, PAGE_SIZE,
					    "poison of the folio at index %lu did not land at byte %zu",
					    index, off + i);
		}
		folio_unlock(folio);
		p->folio[p->nr++] = folio;
		index = folio_next_index(folio);
	}
	return p;
}

/**
 * iwt_poison_release() - after the write: say whether it used the poisoned
 *	folios, and let them go
 * @fs: the case's filesystem
 * @file: the file
 * @p: what iwt_poison_cache() made
 * @pos: a byte the write copied into, or -1 when it copied nothing
 *
 * Drops the references, so that truncation and invalidation see the page
 * cache as the write left it. A folio the kernel replaced (a failed write
 * truncated it and the retry allocated a new one) is reported, not
 * failed: iwt_poison_reaches_write() proves the poisoning itself.
 */
static void iwt_poison_release(struct iwt_fs *fs, struct file *file,
			       struct iwt_poisoned *p, loff_t pos)
{
	struct folio *folio = pos < 0 ? ERR_PTR(-ENOENT) :
				filemap_get_folio(file->f_mapping, pos >> PAGE_SHIFT);
	bool found = false;
	unsigned int i;

	for (i = 0; i < p->nr && !IS_ERR(folio); i++)
		found |= folio == p->folio[i];
	if (!IS_ERR(folio))
		folio_put(folio);
	if (pos >= 0 && !found)
		kunit_info(fs->test, "the folio at offset %lld is not the poisoned one: the kernel replaced it",
			   pos);
	iwt_poisoned_put(p);
}

/* The 1k-block environment of each mode: blocks smaller than a page. */
static const void *iwt_small_block_gen(IWT_GEN_ARGS)
{
	const struct iwt_env *env = prev;

	do {
		env = env ? env + 1 : iwt_envs;
	} while (env < iwt_envs + ARRAY_SIZE(iwt_envs) &&
		 env->geo->block_size >= PAGE_SIZE);
	if (env >= iwt_envs + ARRAY_SIZE(iwt_envs))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s", env->mode->name,
		 env->geo->name);
	return env;
}

/*
 * What the stale-data checks rest on: a write into a folio that
 * iwt_poison_cache() made goes through that very folio, and the blocks of
 * it that the write does not cover still hold the poison afterwards
 * (neither ->write_begin() path touches a block outside [from, to) of a
 * hole). Says so in the log, once per mode.
 */
static void iwt_poison_reaches_write(struct kunit *test)
{
	struct iwt_fs *fs = iwt_setup(test, test->param_value);
	struct file *file = iwt_open(fs, IWT_FILE);
	unsigned int bs = fs->env->geo->block_size;
	loff_t pos = round_up(IWT_POS_BLOCKS * bs, PAGE_SIZE);
	struct iwt_poisoned *p;
	struct folio *folio;
	size_t poison = 0, i;
	u8 *va;

	KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, pos + PAGE_SIZE), 0);
	p = iwt_poison_cache(fs, file, pos, pos + PAGE_SIZE);
	KUNIT_ASSERT_EQ_MSG(test, iwt_write(file, iwt_user_buf(test, bs, pos, 1), bs, pos),
			    (ssize_t)bs, "write of block %lld", pos / bs);
	folio = filemap_get_folio(file->f_mapping, pos >> PAGE_SHIFT);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(folio), "no folio at offset %lld after the write",
			       pos);
	KUNIT_EXPECT_PTR_EQ_MSG(test, folio, p->folio[0],
				"the write at offset %lld did not use the poisoned folio", pos);
	va = kmap_local_folio(folio, 0);
	for (i = bs; i < PAGE_SIZE; i++)
		poison += va[i] == IWT_POISON;
	kunmap_local(va);
	folio_put(folio);
	iwt_poisoned_put(p);
	KUNIT_EXPECT_EQ_MSG(test, poison, PAGE_SIZE - bs,
			    "bytes in [%lld, %lld) of the written folio still holding the poison",
			    pos + bs, pos + (loff_t)PAGE_SIZE);
	kunit_info(test, "the write at %lld went through the poisoned folio; %zu untouched bytes still hold %#04x",
		   pos, poison, IWT_POISON);
	iwt_expect_data(fs, file, pos, bs, 1, "(the written block)");
	iwt_expect_data(fs, file, pos + bs, PAGE_SIZE - bs, -1, "(the hole after it)");
	iwt_sync_and_forget(fs, file, IWT_FILE);
	iwt_expect_baseline(fs, "once the file is gone");
}

/**
 * iwt_expect_tail() - the bytes past the copied prefix are as they were
 * @fs: the case's filesystem
 * @file: the file
 * @sc: the scenario
 * @pos: write position
 * @copy: bytes copied
 * @tail_end: end of the range to check
 * @e: the path's expectation (its stale range bounds the known issue)
 * @when: what happened before, for the failure message
 */
static void iwt_expect_tail(struct iwt_fs *fs, struct file *file,
			    const struct iwt_scenario *sc, loff_t pos,
			    size_t copy, loff_t tail_end,
			    const struct iwt_expect *e, const char *when)
{
	unsigned int bits = fs->sb->s_blocksize_bits;
	struct iwt_diff d;

	if (tail_end <= pos + (loff_t)copy)
		return;
	iwt_diff_data(fs, file, pos + copy, tail_end - pos - copy,
		      sc->kind == IWT_OVERWRITE ? 2 : -1, &d);
	if (!d.bad)
		return;
	if (sc->kind == IWT_HOLE_IN_SIZE) {
		struct iwt_obs o = {
			.ret = copy,
			.copyable = copy,
			.pos = pos,
			.old_size = tail_end,
			.size = tail_end,
			.hole_in_block = pos & ((1 << bits) - 1),
			.folio = e->folio,
			.diff = d,
			.lo = pos + copy,
			.hi = (loff_t)e->stale_end << bits,
		};

		if (iwt_known_issue(fs, IWT_KI_STALE_TAIL, &o)) {
			kunit_info(fs->test, "%zu stale bytes in [%lld, %lld] %s, all of them poison",
				   d.bad, d.first, d.last, when);
			return;
		}
	}
	iwt_report_diff(fs, &d, when);
}

/* States allowed past the copy inside i_size, after fsync. */
static unsigned int iwt_inside_states(const struct iwt_scenario *sc,
				      const struct iwt_expect *e)
{
	if (sc->kind == IWT_OVERWRITE)
		return BIT(IWT_WRITTEN);
	/* Unwritten blocks either stay so or are written as zeros. */
	if (sc->kind == IWT_OVER_UNWRITTEN)
		return BIT(IWT_UNWRITTEN) | BIT(IWT_WRITTEN);
	return e->inside;
}

/**
 * iwt_then() - what follows a short append, and what it must release
 * @fs: the case's filesystem
 * @file: the file
 * @sc: the scenario
 * @pos: write position
 * @copy: bytes the short write copied
 * @asked: bytes it asked for
 * @e: the path's expectation
 *
 * Whatever a path kept past EOF after the short write, a rewrite, a
 * truncate or an eviction releases all of it; a punch hole stops at the
 * block holding i_size (ext4_punch_hole(): "No need to punch hole beyond
 * i_size"), so what was kept beyond stays until eviction.
 *
 * Return: the file, reopened when the inode was evicted.
 */
static struct file *iwt_then(struct iwt_fs *fs, struct file *file,
			     const struct iwt_scenario *sc, loff_t pos,
			     size_t copy, size_t asked, const struct iwt_expect *e)
{
	struct kunit *test = fs->test;
	unsigned int bits = file_inode(file)->i_blkbits;
	u64 copied_end = (pos + copy + (1 << bits) - 1) >> bits, punched = 0;
	unsigned int kept = iwt_kept_clusters(fs, e, copied_end, copied_end);
	loff_t size = pos + copy;

	switch (sc->then) {
	case IWT_THEN_REWRITE:
		KUNIT_ASSERT_EQ_MSG(test, iwt_write(file, iwt_user_buf(test, asked, pos, 1),
						    asked, pos), (ssize_t)asked,
				    "rewrite of %zu bytes at offset %lld", asked, pos);
		size = pos + asked;
		kept = 0;
		break;
	case IWT_THEN_TRUNCATE:
		KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, pos), 0);
		size = pos;
		kept = 0;
		break;
	case IWT_THEN_PUNCH:
		KUNIT_ASSERT_EQ(test, vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE |
						    FALLOC_FL_KEEP_SIZE, pos, asked), 0);
		/*
		 * ext4_punch_hole() clamps the hole to the end of the block
		 * (7.x) or page (6.12) that holds i_size; 6.14, where the
		 * function was reworked, is assumed as the cut-over, not
		 * bisected. What it
		 * leaves past that stays delayed, and every cluster of it
		 * stays reserved: no block of the file is allocated any more,
		 * and freeing a cluster that still holds delayed blocks
		 * reserves it again (ext4_rereserve_cluster()).
		 */
		punched = min_t(loff_t, pos + asked,
				round_up(size, iwt_kernel_version() >= KERNEL_VERSION(6, 14, 0) ?
					       1 << bits : PAGE_SIZE)) >> bits;
		punched = max(punched, copied_end);
		kept = iwt_kept_clusters(fs, e, 0, punched);
		break;
	case IWT_THEN_EVICT:
		/* The last dput() of a dontcache dentry evicts its inode. */
		d_mark_dontcache(file_inode(file));
		kunit_release_action(test, iwt_close_action, file);
		KUNIT_EXPECT_EQ_MSG(test, iwt_dirty_clusters(fs), fs->base_dirty,
				    "s_dirtyclusters_counter once the inode is evicted");
		file = iwt_open(fs, IWT_FILE);
		kept = 0;
		break;
	default:
		break;
	}
	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(file)), size,
			    "i_size after the short write and %s", sc->name);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(file_inode(file))->i_reserved_data_blocks,
			    kept, "i_reserved_data_blocks after %s", sc->name);
	iwt_check_reservations(fs, file, "after the follow-up");
	if (sc->then == IWT_THEN_PUNCH) {
		iwt_expect_states(fs, file, pos >> bits, punched, BIT(IWT_HOLE),
				  "punched");
		iwt_expect_states(fs, file, punched, e->stale_end, e->past_eof,
				  "past the punch, past EOF");
	}
	if (size > pos)
		iwt_expect_data(fs, file, pos, size - pos,
				sc->then == IWT_THEN_PUNCH ? -1 : 1,
				"(after the follow-up)");
	iwt_expect_data(fs, file, 0, pos, -1, "(before the write position)");
	return file;
}

/**
 * struct iwt_folios - the folios a large-folio case must write through
 * @first: the size of the folio the write starts in
 * @last: the size of the folio its copy stops in
 * @kept: whether that last folio is still cached after the write, or was
 *	truncated and replaced
 * @why: the reason, for the failure message
 */
struct iwt_folios {
	loff_t first;
	loff_t last;
	bool kept;
	const char *why;
};

/**
 * iwt_expect_folio() - the page cache holds a folio of @size at @pos
 * @fs: the case's filesystem
 * @file: the file
 * @pos: a byte the folio holds
 * @size: its size
 * @what: its role, for the failure message
 */
static void iwt_expect_folio(struct iwt_fs *fs, struct file *file, loff_t pos,
			     loff_t size, const char *what)
{
	struct folio *folio = filemap_get_folio(file->f_mapping, pos >> PAGE_SHIFT);

	if (IS_ERR(folio)) {
		KUNIT_FAIL(fs->test,
			   "no folio cached at offset %lld (%s), expected one of %lld bytes",
			   pos, what, size);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(fs->test, (loff_t)folio_size(folio), size,
			    "the folio at offset %lld (%s), at %lld: order %u, expected order %u",
			    pos, what, folio_pos(folio), folio_order(folio),
			    ilog2(size >> PAGE_SHIFT));
	folio_put(folio);
}

/* Whether the folio holding @pos is one the case poisoned. */
static bool iwt_poisoned_holds(const struct iwt_poisoned *p,
			       struct address_space *mapping, loff_t pos)
{
	struct folio *folio = filemap_get_folio(mapping, pos >> PAGE_SHIFT);
	bool found = false;
	unsigned int i;

	if (IS_ERR(folio))
		return false;
	for (i = 0; i < p->nr; i++)
		found |= folio == p->folio[i];
	folio_put(folio);
	return found;
}

/**
 * iwt_expect_lf_after() - what became of the large folios a write went
 *	through
 * @fs: the case's filesystem
 * @file: the file
 * @p: the folios the case poisoned, which the write found in the cache
 * @pos: write position
 * @copy: bytes copied
 * @lf: the folios and what must become of the last one
 */
static void iwt_expect_lf_after(struct iwt_fs *fs, struct file *file,
				const struct iwt_poisoned *p, loff_t pos,
				size_t copy, const struct iwt_folios *lf)
{
	loff_t last = pos + copy - 1;
	bool kept = iwt_poisoned_holds(p, file->f_mapping, last);

	KUNIT_EXPECT_EQ_MSG(fs->test, kept, lf->kept,
			    "the %lld-byte folio the short copy stopped in (byte %lld) must %s: %s",
			    lf->last, last, lf->kept ? "stay cached" :
			    "be truncated and replaced", lf->why);
	if (kept)
		iwt_expect_folio(fs, file, last, lf->last, "the copy stops in it");
	/* A first folio before the last one took its bytes whole: kept. */
	if (lf->first != lf->last || kept)
		iwt_expect_folio(fs, file, pos, lf->first, "the write starts in it");
}

/**
 * iwt_expect_one_extent() - past the copy, one allocated extent, then holes
 * @fs: the case's filesystem
 * @file: the file
 * @from: the first block past the copy
 * @to: the block past the write's range
 *
 * iomap without delalloc: ->iomap_begin() allocated the write's range,
 * unwritten, with one ext4_map_blocks() call; the allocator may give a
 * shorter extent than asked for (with 1k blocks at most 2048 blocks here),
 * and the write's later mappings never came, the copy having stopped.
 *
 * Return: the block past that extent's end.
 */
static u64 iwt_expect_one_extent(struct iwt_fs *fs, struct file *file,
				 u64 from, u64 to)
{
	u64 end = from;

	while (end < to && iwt_block_state(fs, file, end) == IWT_UNWRITTEN)
		end++;
	if (from < to)
		KUNIT_EXPECT_GT_MSG(fs->test, end, from,
				    "block %llu, first past the copy: expected unwritten (the mapping ->iomap_begin() allocated)",
				    from);
	iwt_expect_states(fs, file, end, to, BIT(IWT_HOLE),
			  "past EOF, past the extent ->iomap_begin() allocated");
	return end;
}

/**
 * iwt_short_write_at() - a short write and every check of its outcome
 * @fs: the case's filesystem
 * @sc: the scenario: what the write lands in and what follows it
 * @pos: write position
 * @copy: bytes its source holds
 * @asked: bytes it asks for
 * @lf: for a large-folio case, the folio sizes it must write through
 */
static void iwt_short_write_at(struct iwt_fs *fs, const struct iwt_scenario *sc,
			       loff_t pos, size_t copy, size_t asked,
			       const struct iwt_folios *lf)
{
	struct kunit *test = fs->test;
	struct file *file = iwt_open(fs, IWT_FILE);
	struct inode *inode = file_inode(file);
	unsigned int bits = inode->i_blkbits, bs = 1U << bits;
	loff_t size = max_t(loff_t, IWT_SIZE_BLOCKS * bs,
			    round_up(pos + asked, PAGE_SIZE));
	loff_t new_size, disk_size, tail_end;
	struct iwt_poisoned *poisoned;
	struct iwt_expect e;
	unsigned long ubuf;
	ssize_t ret, want;
	u64 copied_end, delayed;

	iwt_prepare(fs, file, sc, size);
	if (sc->kind == IWT_APPEND)
		size = 0;
	poisoned = iwt_poison_cache(fs, file, pos,
				    min_t(loff_t, pos + asked, fs->sb->s_maxbytes));
	/* The folios the write is about to go through are this large. */
	if (lf) {
		iwt_expect_folio(fs, file, pos, lf->first,
				 "the write starts in it, before the write");
		iwt_expect_folio(fs, file, pos + copy - 1, lf->last,
				 "the copy stops in it, before the write");
	}
	if (sc->limit == IWT_RLIMIT_FSIZE) {
		ubuf = iwt_user_buf(test, asked, pos, 1);
		ret = iwt_limited_write(file, ubuf, asked, pos, pos + copy);
	} else if (sc->limit == IWT_MAXBYTES) {
		ubuf = iwt_user_buf(test, asked, pos, 1);
		ret = iwt_write(file, ubuf, asked, pos);
	} else {
		ubuf = iwt_user_buf(test, copy, pos, 1);
		ret = iwt_write(file, ubuf, asked, pos);
	}
	want = copy ? (ssize_t)copy : -EFAULT;
	KUNIT_ASSERT_EQ_MSG(test, ret, want,
			    "write of %zu bytes at offset %lld, source ends after %zu",
			    asked, pos, copy);
	if (lf)
		iwt_expect_lf_after(fs, file, poisoned, pos, copy, lf);
	iwt_poison_release(fs, file, poisoned, copy ? pos : -1);
	new_size = max_t(loff_t, size, copy ? pos + copy : 0);
	if (i_size_read(inode) != new_size) {
		struct iwt_obs o = {
			.ret = ret,
			.copyable = copy,
			.pos = pos,
			.old_size = size,
			.size = i_size_read(inode),
		};

		if (iwt_known_issue(fs, IWT_KI_EFAULT_SIZE, &o))
			new_size = pos;
	}
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(inode), new_size, "i_size after the write");
	KUNIT_EXPECT_LE_MSG(test, EXT4_I(inode)->i_disksize, i_size_read(inode),
			    "i_disksize <= i_size after the write");
	iwt_check_reservations(fs, file, "after the write");
	iwt_expectation(fs->env, inode, pos, copy,
			sc->limit != IWT_FAULT ? copy : asked,
			copy || (fs->known & BIT(IWT_KI_EFAULT_SIZE)), &e);

	/* The data: copied prefix new, the rest as it was. */
	tail_end = sc->kind == IWT_OVERWRITE || sc->kind == IWT_OVER_UNWRITTEN ?
		   size : new_size;
	if (copy)
		iwt_expect_data(fs, file, pos, copy, 1, "(copied prefix)");
	iwt_expect_tail(fs, file, sc, pos, copy, tail_end, &e,
			"(past the copied prefix)");
	iwt_expect_before(fs, file, pos, sc->kind == IWT_OVERWRITE ? 2 : -1,
			  "(before the write position)");

	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	/* Part of the known issue: with delalloc nothing writes the new size. */
	disk_size = new_size;
	if ((fs->known & BIT(IWT_KI_EFAULT_SIZE)) && fs->env->mode->delalloc)
		disk_size = size;
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_disksize, disk_size,
			    "i_disksize after fsync");
	iwt_check_reservations(fs, file, "after fsync");

	/* Blocks holding copied bytes are written once fsync returns. */
	copied_end = (pos + copy + bs - 1) >> bits;
	iwt_expect_states(fs, file, pos >> bits, copied_end, BIT(IWT_WRITTEN),
			  "holding copied bytes, after fsync");
	if (sc->kind == IWT_APPEND) {
		if (e.one_extent)
			e.stale_end = iwt_expect_one_extent(fs, file, copied_end,
							    e.stale_end);
		delayed = iwt_expect_states(fs, file, copied_end, e.stale_end,
					    e.past_eof, "past EOF, after fsync");
		/* All of the untouched folio's blocks, or none. */
		if (e.either && !delayed)
			e.stale_end = copied_end;
		KUNIT_EXPECT_EQ_MSG(test, delayed,
				    e.kept_past_eof ? e.stale_end - copied_end : 0,
				    "delayed blocks kept past EOF after fsync (%s path)",
				    iwt_path_name(fs->mounted));
		KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_reserved_data_blocks,
				    iwt_kept_clusters(fs, &e, copy ? copied_end : 0,
						      copied_end),
				    "i_reserved_data_blocks kept past EOF after fsync (%s path)",
				    iwt_path_name(fs->mounted));
	} else {
		KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_reserved_data_blocks, 0U,
				    "i_reserved_data_blocks after fsync, inside i_size");
		iwt_expect_states(fs, file, copied_end, e.stale_end,
				  iwt_inside_states(sc, &e),
				  "inside i_size past the copy, after fsync");
	}
	iwt_expect_states_reread(fs, file, (pos >> bits) ? (pos >> bits) - 1 : 0,
				 max(e.stale_end, copied_end) + 1);
	if (sc->limit != IWT_MAXBYTES)
		iwt_expect_disk_extents(fs, file, 0, max(e.stale_end, copied_end) + 1);
	if (sc->then != IWT_THEN_NOTHING) {
		file = iwt_then(fs, file, sc, pos, copy, asked, &e);
		goto forget;
	}

	iwt_drop_cache(fs, file);
	if (copy)
		iwt_expect_data(fs, file, pos, copy, 1, "(copied prefix, cache dropped)");
	/* What went to disk: the stale range ends with the faulting block. */
	e.stale_end = min_t(u64, e.stale_end, copied_end);
	iwt_expect_tail(fs, file, sc, pos, copy, tail_end, &e,
			"(past the copied prefix, cache dropped)");

	/* Truncating up past the short write exposes only zeros. */
	if (sc->kind == IWT_APPEND && copy && sc->limit != IWT_MAXBYTES) {
		KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, pos + asked), 0);
		iwt_expect_data(fs, file, pos + copy, asked - copy, -1,
				"(truncated up past the short append)");
	}

forget:
	iwt_sync_and_forget(fs, file, IWT_FILE);
	iwt_expect_baseline(fs, "once the file is gone");
	iwt_unmount(fs);
	iwt_check_disk(fs);
	iwt_finish(fs);
}

/*
 * One short write, checked after the write, after fsync, after the page
 * cache is dropped, and once the file is gone.
 */
static void iwt_short_write(struct kunit *test)
{
	const struct iwt_case *c = test->param_value;
	const struct iwt_scenario *sc = c->sc;
	struct iwt_fs *fs = iwt_setup(test, &c->env);
	unsigned int bs = c->env.geo->block_size;
	size_t copy = sc->copy(bs);
	loff_t pos = IWT_POS_BLOCKS * bs + (sc->skew ? sc->skew(bs) : 0);

	if (sc->limit == IWT_MAXBYTES)
		pos = fs->sb->s_maxbytes - copy;
	iwt_short_write_at(fs, sc, pos, copy, copy + IWT_EXTRA_BLOCKS * bs, NULL);
}

/* --------------------------------------------------------------------
 * Large folios (x86_64 with THP): short copies that stop before, at and
 * inside the end of a 16k, a 64k and the largest folio the mapping
 * allows, and writes that start in a folio of one order and stop in one
 * of another, with blocks of 1k, 2k and 4k inside them. Each case
 * asserts the folio sizes it wrote through; the semantics are those of
 * iwt_expectation(), with the folio that took the short copy as large as
 * it is: neither path splits it. buffer_head rejects a short copy into a
 * large folio that is not uptodate and copies again what the source
 * holds, keeping per-block state in its buffer heads; iomap keeps the
 * copied blocks in its per-folio block state (struct iomap_folio_state).
 */

#define IWT_NO_LARGE_FOLIOS \
	"no large folios: the page cache gives ext4 files order-0 folios only (UML, or no CONFIG_TRANSPARENT_HUGEPAGE)"

/* Room for a write through the largest folio (2M on x86_64), and more. */
#define IWT_LF_DATA_BYTES	(8ULL << 20)

/**
 * enum iwt_lf_stop - where in its last folio the copy stops
 * @IWT_LF_BEFORE_END: 100 bytes into the folio's last block but one
 * @IWT_LF_AT_END: at the end of the folio
 * @IWT_LF_INSIDE: 3 bytes past its middle
 */
enum iwt_lf_stop {
	IWT_LF_BEFORE_END,
	IWT_LF_AT_END,
	IWT_LF_INSIDE,
};

/**
 * struct iwt_lf_scenario - a short write through large folios
 * @sc: what the write lands in (append, or a hole inside i_size)
 * @last: the size of the folio the copy stops in, which starts at that
 *	same offset; 0 for the largest the mapping allows
 * @first: the size of a folio just before it, where the write starts;
 *	0 when it starts in the last one
 * @stop: where the copy stops
 */
struct iwt_lf_scenario {
	struct iwt_scenario sc;
	loff_t last;
	loff_t first;
	enum iwt_lf_stop stop;
};

#define IWT_LF(n, k, l, f, st) \
	{ .sc = { .name = (n), .kind = (k) }, .last = (l), .first = (f), .stop = (st) }

static const struct iwt_lf_scenario iwt_lf_scenarios[] = {
	IWT_LF("16k/append/before-end", IWT_APPEND, SZ_16K, 0, IWT_LF_BEFORE_END),
	IWT_LF("16k/append/at-end", IWT_APPEND, SZ_16K, 0, IWT_LF_AT_END),
	IWT_LF("16k/append/inside", IWT_APPEND, SZ_16K, 0, IWT_LF_INSIDE),
	IWT_LF("64k/append/before-end", IWT_APPEND, SZ_64K, 0, IWT_LF_BEFORE_END),
	IWT_LF("64k/append/at-end", IWT_APPEND, SZ_64K, 0, IWT_LF_AT_END),
	IWT_LF("64k/append/inside", IWT_APPEND, SZ_64K, 0, IWT_LF_INSIDE),
	IWT_LF("64k/hole/inside", IWT_HOLE_IN_SIZE, SZ_64K, 0, IWT_LF_INSIDE),
	IWT_LF("largest/append/inside", IWT_APPEND, 0, 0, IWT_LF_INSIDE),
	IWT_LF("16k-then-64k/append/inside", IWT_APPEND, SZ_64K, SZ_16K,
	       IWT_LF_INSIDE),
	IWT_LF("16k-then-64k/hole/before-end", IWT_HOLE_IN_SIZE, SZ_64K, SZ_16K,
	       IWT_LF_BEFORE_END),
};

/**
 * struct iwt_lf_case - a large-folio case's parameter
 * @lf: the scenario
 * @env: mode and geometry
 */
struct iwt_lf_case {
	const struct iwt_lf_scenario *lf;
	struct iwt_env env;
};

/* The geometries: blocks of 1k, 2k and 4k, no bigalloc. */
static const unsigned int iwt_lf_geos[] = { 0, 1, 2 };

static struct iwt_lf_case iwt_lf_params[ARRAY_SIZE(iwt_lf_scenarios) *
					ARRAY_SIZE(iwt_lf_geos) *
					ARRAY_SIZE(iwt_modes)];

static void iwt_init_lf_cases(void)
{
	unsigned int m, g, s, i = 0;

	for (m = 0; m < ARRAY_SIZE(iwt_modes); m++)
		for (g = 0; g < ARRAY_SIZE(iwt_lf_geos); g++)
			for (s = 0; s < ARRAY_SIZE(iwt_lf_scenarios); s++) {
				iwt_lf_params[i].lf = &iwt_lf_scenarios[s];
				iwt_lf_params[i].env.mode = &iwt_modes[m];
				iwt_lf_params[i++].env.geo =
					&iwt_geometries[iwt_lf_geos[g]];
			}
}

static const void *iwt_lf_gen(IWT_GEN_ARGS)
{
	const struct iwt_lf_case *c = prev ?
		(const struct iwt_lf_case *)prev + 1 : iwt_lf_params;

	if (c >= iwt_lf_params + ARRAY_SIZE(iwt_lf_params))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s/%s", c->env.mode->name,
		 c->env.geo->name, c->lf->sc.name);
	return c;
}

/*
 * A short write through large folios. The last folio starts at an offset
 * of its own size (the page cache aligns a folio to its size), the first,
 * when there is one, just before it; the write asks for the rest of the
 * last folio and a few blocks more, so the page cache may make it whole.
 */
static void iwt_large_folio(struct kunit *test)
{
	const struct iwt_lf_case *c = test->param_value;
	const struct iwt_lf_scenario *lf = c->lf;
	unsigned int bs = c->env.geo->block_size;
	struct iwt_folios want;
	struct iwt_fs *fs;
	struct file *probe;
	loff_t max, last, pos, stop;

	if (!MAX_PAGECACHE_ORDER)
		kunit_skip(test, "%s", IWT_NO_LARGE_FOLIOS);
	fs = iwt_setup_sized(test, &c->env, IWT_LF_DATA_BYTES);
	/* Each inode's largest order is ext4's choice for that file. */
	probe = iwt_open(fs, "probe");
	max = iwt_max_folio_size(probe->f_mapping);
	/* An open file would keep the superblock, and the ramdisk, at unmount. */
	kunit_release_action(test, iwt_close_action, probe);
	if (max == PAGE_SIZE)
		kunit_skip(test, "%s", IWT_NO_LARGE_FOLIOS);
	last = lf->last ?: max;
	KUNIT_ASSERT_LE_MSG(test, last, max,
			    "the mapping's largest folio (%lld bytes) is smaller than the case needs",
			    max);
	pos = last - lf->first;
	switch (lf->stop) {
	case IWT_LF_BEFORE_END:
		stop = 2 * last - 2 * bs + 100;
		break;
	case IWT_LF_AT_END:
		stop = 2 * last;
		break;
	default:
		stop = last + last / 2 + 3;
		break;
	}
	want.first = lf->first ?: last;
	want.last = last;
	/*
	 * A short copy into a folio that is not uptodate is rejected. Past
	 * i_size the rejecting path truncates that folio away on buffer_head
	 * without delalloc (ext4_write_end(): ext4_truncate_failed_write())
	 * and on iomap (iomap_write_failed()), and the retry writes through
	 * new folios sized from what it copies; buffer_head with delalloc
	 * copies again into the same folio.
	 */
	want.kept = true;
	if (lf->stop == IWT_LF_AT_END)
		want.why = "the copy filled it";
	else if (lf->sc.kind != IWT_APPEND)
		want.why = "inside i_size nothing truncates it";
	else if (fs->env->mode->path == IWT_BH && fs->env->mode->delalloc)
		want.why = "ext4_da_write_end() keeps it, and the retry copies into it";
	else
		want.kept = false;
	if (!want.kept)
		want.why = fs->env->mode->path == IWT_BH ?
			   "ext4_truncate_failed_write() truncates the page cache to i_size" :
			   "iomap_write_failed() truncates the page cache from i_size";
	kunit_info(test, "write at %lld, copy stops at %lld: folios of %lld and %lld bytes",
		   pos, stop, want.first, want.last);
	iwt_short_write_at(fs, &lf->sc, pos, stop - pos,
			   2 * last - pos + IWT_EXTRA_BLOCKS * bs, &want);
}

static size_t iwt_cluster_size(struct iwt_fs *fs)
{
	return fs->env->geo->block_size * fs->env->geo->cluster_ratio;
}

/**
 * iwt_fill() - take all but %IWT_ENOSPC_ROOM clusters that writes may use
 * @fs: the case's filesystem
 *
 * Return: the filler file; unlink it with iwt_sync_and_forget().
 */
static struct file *iwt_fill(struct iwt_fs *fs)
{
	struct kunit *test = fs->test;
	struct file *filler = iwt_open(fs, "filler");
	size_t csize = iwt_cluster_size(fs);
	s64 fill = iwt_free_clusters(fs) -
		   atomic64_read(&iwt_sbi(fs)->s_resv_clusters) - IWT_ENOSPC_ROOM;

	KUNIT_ASSERT_GT(test, fill, 0);
	KUNIT_ASSERT_EQ_MSG(test, vfs_fallocate(filler, 0, 0, fill * csize), 0,
			    "fallocate of %lld clusters", fill);
	return filler;
}

/**
 * iwt_room() - bytes @free clusters hold for a write at @pos
 * @fs: the case's filesystem
 * @pos: write position
 * @free: clusters free
 *
 * The write starts inside its first cluster: that one holds less.
 *
 * Return: the bytes.
 */
static s64 iwt_room(struct iwt_fs *fs, loff_t pos, s64 free)
{
	size_t csize = iwt_cluster_size(fs);

	return free * csize - (pos & (csize - 1));
}

/**
 * iwt_enospc_known() - is a write's departure from "as many bytes as there
 *	is room for" exactly a known issue of its path?
 * @fs: the case's filesystem
 * @file: the file written
 * @pos: write position
 * @old_size: i_size before the write
 * @asked: bytes asked for
 * @free: clusters free for the write before it
 * @ret: what the write returned
 *
 * Return: true when it is (iomap-enospc-whole through iomap,
 * large-folio-enospc-short through buffer_head).
 */
static bool iwt_enospc_known(struct iwt_fs *fs, struct file *file, loff_t pos,
			     loff_t old_size, size_t asked, s64 free, ssize_t ret)
{
	size_t csize = iwt_cluster_size(fs);
	struct iwt_obs o = {
		.ret = ret,
		.copyable = asked,
		.pos = pos,
		.old_size = old_size,
		.size = i_size_read(file_inode(file)),
		.free = free,
		.asked = DIV_ROUND_UP(asked, csize),
		.fits = iwt_room(fs, pos, free),
	};

	if (fs->env->mode->path == IWT_IOMAP)
		return ret == -ENOSPC && iwt_known_issue(fs, IWT_KI_ENOSPC_WHOLE, &o);
	o.stop = iwt_whole_folio_stop(file->f_mapping, pos, asked, o.fits,
				      &o.stop_folio);
	return iwt_known_issue(fs, IWT_KI_ENOSPC_FOLIO, &o);
}

/*
 * ENOSPC partway through a multi-cluster write: a filler takes all but a
 * few clusters, then a write asks for more than are left. It must come up
 * short (not fail: there is room for some), keep every byte it reports,
 * leave no reservation after fsync, and give everything back once both
 * files are gone.
 */
static void iwt_enospc(struct kunit *test)
{
	struct iwt_fs *fs = iwt_setup(test, test->param_value);
	struct file *filler = iwt_fill(fs);
	struct file *file = iwt_open(fs, IWT_FILE);
	size_t csize = iwt_cluster_size(fs);
	size_t asked = IWT_ENOSPC_ASK * csize;
	s64 free = iwt_free_clusters(fs) - atomic64_read(&iwt_sbi(fs)->s_resv_clusters);
	ssize_t ret;

	/*
	 * Every cluster free for an unprivileged write takes data: the file's
	 * few extents fit in the inode, so no metadata block is needed.
	 */
	ret = iwt_write(file, iwt_user_buf(test, asked, 0, 1), asked, 0);
	if (ret != (ssize_t)(free * csize) &&
	    !iwt_enospc_known(fs, file, 0, 0, asked, free, ret)) {
		KUNIT_FAIL(test,
			   "write of %zu bytes with %lld clusters of %zu bytes free (after s_resv_clusters): returned %zd, expected %lld",
			   asked, free, csize, ret, free * csize);
		if (ret <= 0)
			return;
	} else if (ret <= 0) {
		iwt_check_reservations(fs, file, "after the failed write");
		goto forget;
	}
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(file_inode(file)), (loff_t)ret,
			    "i_size after the ENOSPC-short write");
	iwt_expect_data(fs, file, 0, ret, 1, "(written before ENOSPC)");
	iwt_check_reservations(fs, file, "after the ENOSPC-short write");
	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(file_inode(file))->i_reserved_data_blocks, 0U,
			    "i_reserved_data_blocks after fsync of the ENOSPC-short write");
	iwt_check_reservations(fs, file, "after fsync");
	iwt_drop_cache(fs, file);
	iwt_expect_data(fs, file, 0, ret, 1, "(written before ENOSPC, cache dropped)");

forget:
	iwt_sync_and_forget(fs, file, IWT_FILE);
	iwt_sync_and_forget(fs, filler, "filler");
	iwt_expect_baseline(fs, "once both files are gone");
	iwt_unmount(fs);
	iwt_check_disk(fs);
	iwt_finish(fs);
}

/* --------------------------------------------------------------------
 * Fault-injection sweeps: fail the n-th injection point of a write and
 * its fsync, for n = 1, 2, ... until the write no longer reaches n.
 *
 * Out of reach: allocations with __GFP_NOFAIL (the extent-status tree's
 * retry after its first, failable, GFP_ATOMIC attempt; jbd2's journal-head
 * and transaction allocations), and anything done by kworkers (background
 * writeback, journal commit in kjournald2): fail_nth counts in the test's
 * own task only, so the sweep drives writeback itself with fsync. brd's
 * backing pages are all allocated by the formatter before the sweep, so
 * brd is not the victim.
 */

/**
 * struct iwt_knob - one fault-injection setting, and what it was
 * @path: file under debugfs
 * @value: what the sweep needs
 * @old: the value read before, written back afterwards
 */
struct iwt_knob {
	const char *path;
	const char *value;
	char old[24];
};

static const struct iwt_knob iwt_knobs_init[] = {
	/* Fail sleeping allocations too. */
	{ "failslab/ignore-gfp-wait",	     "N" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order",	     "0" },
	/*
	 * Log each injected fault with its call trace, none held back by the
	 * ratelimit: a step that looks like a known issue is judged by the
	 * trace of its own fault (see iwt_sweep_step()).
	 */
	{ "failslab/verbose",		     "2" },
	{ "fail_page_alloc/verbose",	     "2" },
	{ "fail_usercopy/verbose",	     "2" },
	{ "failslab/verbose_ratelimit_interval_ms",	  "0" },
	{ "fail_page_alloc/verbose_ratelimit_interval_ms", "0" },
	{ "fail_usercopy/verbose_ratelimit_interval_ms",  "0" },
	/*
	 * Every injected fault counts "times" down, fail-nth ones too: with
	 * -1 it stays as it is, and it is restored with the rest.
	 */
	{ "failslab/times",		     "-1" },
	{ "fail_page_alloc/times",	     "-1" },
	{ "fail_usercopy/times",	     "-1" },
};

/* fail_make_request, for the sweeps whose bios fail too (@bio_faults). */
static const struct iwt_knob iwt_knobs_bio[] = {
	{ "fail_make_request/verbose",	     "2" },
	{ "fail_make_request/verbose_ratelimit_interval_ms", "0" },
	{ "fail_make_request/times",	     "-1" },
};

/**
 * struct iwt_faults - the fault-injection setup of one sweep
 * @test: the case
 * @mnt: a private mount of debugfs
 * @ubuf: a user page for reading and writing the settings
 * @nr: how many of @knobs the sweep uses
 * @knobs: the settings changed, with their old values
 */
struct iwt_faults {
	struct kunit *test;
	struct vfsmount *mnt;
	unsigned long ubuf;
	unsigned int nr;
	struct iwt_knob knobs[ARRAY_SIZE(iwt_knobs_init) + ARRAY_SIZE(iwt_knobs_bio)];
};

/*
 * debugfs attributes have ->read and ->write but no ->read_iter or
 * ->write_iter, so kernel_read() and kernel_write() refuse them: go
 * through ->read/->write with a user page, as a system call would.
 */
static int iwt_knob_io(struct iwt_faults *fi, const char *path, char *buf,
		       size_t len, bool write)
{
	struct file *f = file_open_root_mnt(fi->mnt, path,
					    write ? O_WRONLY : O_RDONLY, 0);
	char __user *ubuf = (char __user *)fi->ubuf;
	loff_t pos = 0;
	ssize_t ret = -EFAULT;

	if (IS_ERR(f))
		return PTR_ERR(f);
	if (write && !copy_to_user(ubuf, buf, len))
		ret = f->f_op->write(f, ubuf, len, &pos);
	else if (!write)
		ret = f->f_op->read(f, ubuf, len, &pos);
	if (!write && ret >= 0) {
		buf[ret] = 0;
		if (copy_from_user(buf, ubuf, ret))
			ret = -EFAULT;
	}
	iwt_close(f);
	return ret < 0 ? ret : 0;
}

/*
 * KUnit runs actions in a kthread of its own, with no mm:
 * kunit_vm_mmap() attaches one there, and the page it maps is released
 * by the same cleanup, after this action.
 */
static void iwt_faults_restore(void *ctx)
{
	struct iwt_faults *fi = ctx;
	unsigned int i;
	int err;

	fi->ubuf = kunit_vm_mmap(fi->test, NULL, 0, PAGE_SIZE,
				 PROT_READ | PROT_WRITE,
				 MAP_ANONYMOUS | MAP_PRIVATE, 0);
	for (i = 0; i < fi->nr; i++) {
		struct iwt_knob *k = &fi->knobs[i];

		if (!k->old[0])
			continue;
		err = fi->ubuf ? iwt_knob_io(fi, k->path, k->old,
					     strlen(k->old), true) : -ENOMEM;
		/* A setting left changed would fail allocations system-wide. */
		if (err) {
			pr_err("ext4_iomap_write: fault injection %s left changed: restoring \"%s\" failed (%d)\n",
			       k->path, k->old, err);
			KUNIT_FAIL(fi->test, "restoring fault injection %s to \"%s\": %d",
				   k->path, k->old, err);
		}
	}
	kern_unmount(fi->mnt);
}

/**
 * iwt_faults_setup() - configure failslab, fail_page_alloc, fail_usercopy
 * @test: the running case
 * @bio: fail_make_request too
 *
 * Through a private debugfs mount, with no kernel command line and no user
 * space; every setting is restored when the case ends. A kernel without
 * the debugfs fault-injection files skips the case.
 */
static void iwt_faults_setup(struct kunit *test, bool bio)
{
	struct iwt_faults *fi = kunit_kzalloc(test, sizeof(*fi), GFP_KERNEL);
	struct file_system_type *type;
	unsigned int i;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, fi);
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "no CONFIG_FAULT_INJECTION: the fail-nth sweep needs it");
	type = get_fs_type("debugfs");
	if (!type)
		kunit_skip(test, "no debugfs: needs DEBUG_FS");
	fi->mnt = vfs_kern_mount(type, SB_KERNMOUNT, "debugfs", NULL);
	module_put(type->owner);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(fi->mnt), "private debugfs mount: %d",
			       PTR_ERR_OR_ZERO(fi->mnt));
	memcpy(fi->knobs, iwt_knobs_init, sizeof(iwt_knobs_init));
	fi->nr = ARRAY_SIZE(iwt_knobs_init);
	if (bio) {
		memcpy(fi->knobs + fi->nr, iwt_knobs_bio, sizeof(iwt_knobs_bio));
		fi->nr += ARRAY_SIZE(iwt_knobs_bio);
	}
	fi->test = test;
	fi->ubuf = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE(test, fi->ubuf, 0);
	for (i = 0; i < fi->nr; i++) {
		struct iwt_knob *k = &fi->knobs[i];

		err = iwt_knob_io(fi, k->path, k->old, sizeof(k->old) - 1, false);
		if (err) {
			k->old[0] = 0;
			iwt_faults_restore(fi);
			kunit_skip(test, "no %s (%d): needs %s", k->path, err,
				   "FAILSLAB, FAIL_PAGE_ALLOC, FAULT_INJECTION_USERCOPY, FAULT_INJECTION_DEBUG_FS, and for read errors FAIL_MAKE_REQUEST");
		}
		strim(k->old);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_faults_restore, fi), 0);
	for (i = 0; i < fi->nr; i++)
		KUNIT_ASSERT_EQ_MSG(test, iwt_knob_io(fi, fi->knobs[i].path,
						      (char *)fi->knobs[i].value,
						      strlen(fi->knobs[i].value), true),
				    0, "setting %s", fi->knobs[i].path);
}

/**
 * iwt_traces_off_console() - keep call traces off the console for a while
 * @saved: the level to restore, or -1 to start
 *
 * Every injected fault is reported with its call trace (iwt_knobs_init[]),
 * a few kilobytes per sweep step and megabytes per run: more than a UML
 * console writing to kunit.py's pipe passes on without dropping lines,
 * the KTAP results among them. The trace (dump_stack(), KERN_DEFAULT) is
 * stored at the debug level while a step's write and fsync run: the
 * console leaves it out, the log buffer and the capture through the
 * console tracepoint keep it. Messages with a level of their own, the
 * fault report's first lines, WARN's and ext4's, still reach the console.
 *
 * Return: the level to pass back.
 */
static int iwt_traces_off_console(int saved)
{
	int level = default_message_loglevel;

	default_message_loglevel = saved < 0 ? LOGLEVEL_DEBUG : saved;
	return level;
}

/*
 * current->fail_nth exists only with CONFIG_FAULT_INJECTION; without it
 * iwt_faults_setup() has skipped the sweep before these are reached.
 */
static void iwt_set_fail_nth(unsigned int n)
{
#ifdef CONFIG_FAULT_INJECTION
	current->fail_nth = n;
#endif
}

static unsigned int iwt_fail_nth_left(void)
{
#ifdef CONFIG_FAULT_INJECTION
	return current->fail_nth;
#else
	return 0;
#endif
}

/* Where a step whose injection site a known issue names is replayed. */
static const int iwt_replay_shift[] = { 0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5,
					6, -6, 7, -7, 8, -8 };

/**
 * iwt_replay_tries() - how many of iwt_replay_shift[] a replay may try
 *
 * Whether a slab allocation refills its slab from the page allocator
 * depends on what ran before, so the n-th injection point moves between
 * two runs of the same write; a debug kernel's own allocations (debug
 * objects, lockdep, KASAN's stack depot) move it further. A wider
 * window cannot make a wrong site pass: the replay's trace must still
 * show the known issue's frames.
 *
 * Return: 9 (n, n +/- 1 .. 4), all of them on a debug kernel.
 */
static unsigned int iwt_replay_tries(void)
{
	if (IS_ENABLED(CONFIG_KASAN) || IS_ENABLED(CONFIG_DEBUG_OBJECTS) ||
	    IS_ENABLED(CONFIG_PROVE_LOCKING))
		return ARRAY_SIZE(iwt_replay_shift);
	return 9;
}

/* Passes of each sweep (see iwt_fail_nth()). */
#define IWT_SWEEP_PASSES	2

/**
 * iwt_sweep_tail() - steps a sweep pass runs past the last point reached
 *
 * The last injection points of a step are those of its fsync's I/O
 * completion (the conversion of unwritten extents among them), and the
 * count before them moves by a slab refill or two between steps (see
 * iwt_replay_tries()). A pass that ended at the first n the step no
 * longer reached could end one point short of them: it ends when that
 * many n in a row are not reached.
 *
 * Return: 4, or 8 on a debug kernel, whose allocations move the points
 * further.
 */
static unsigned int iwt_sweep_tail(void)
{
	return iwt_replay_tries() > 9 ? 8 : 4;
}

/* A sweep that has not converged by then fails. */
#define IWT_SWEEP_MAX		10000

/**
 * iwt_expect_synced() - data that fsync reported written reads back
 * @fs: the case's filesystem
 * @file: the file
 * @o: the step's outcome: the write's position and return, fsync's
 *
 * Read after the page cache is dropped, so from the disk. Also after an
 * fsync that failed, once the next one returned 0. A writeback error that
 * fsync reported may have cost the data (Documentation/filesystems/vfs.rst,
 * "Handling errors during writeback"): the range may then read as zeros,
 * never as other bytes. Except where the kernel says the delayed
 * allocation at writeback failed: -ENOMEM there is transient, and ext4
 * leaves the folios dirty for do_writepages() to retry
 * (mpage_map_and_submit_extent()), so nothing may be lost.
 */
static void iwt_expect_synced(struct iwt_fs *fs, struct file *file,
			      struct iwt_obs *o)
{
	unsigned int bits = fs->sb->s_blocksize_bits;
	ext4_lblk_t lblk;

	iwt_drop_cache(fs, file);
	iwt_diff_data(fs, file, o->pos, o->ret, 1, &o->diff);
	if (!o->diff.bad)
		return;
	o->states = 0;
	for (lblk = o->diff.first >> bits; lblk <= o->diff.last >> bits; lblk++)
		o->states |= BIT(iwt_block_state(fs, file, lblk));
	o->console = iwt_console.buf;
	if (!o->fsync_err) {
		if (!iwt_known_issue(fs, IWT_KI_CONVERT_LOSS, o))
			iwt_report_diff(fs, &o->diff, "(fsync returned 0, cache dropped)");
		return;
	}
	if (strstr(o->console, IWT_MSG_DA_FAILED)) {
		if (!iwt_known_issue(fs, IWT_KI_WB_ENOMEM_LOSS, o))
			iwt_report_diff(fs, &o->diff,
					"(the delayed allocation failed at writeback, fsync failed, the next returned 0; cache dropped)");
		return;
	}
	if (o->diff.zeros == o->diff.bad) {
		kunit_info(fs->test,
			   "fsync reported %d, the next returned 0; %zu bytes in [%lld, %lld] read back as zeros: lost, as a reported writeback error allows",
			   o->fsync_err, o->diff.bad, o->diff.first, o->diff.last);
		return;
	}
	iwt_report_diff(fs, &o->diff,
			"(fsync failed, the next returned 0; cache dropped; bytes other than zeros)");
}

/**
 * iwt_expect_synced_after() - the dirty blocks past a write's range are
 *	on disk once fsync returned 0
 * @fs: the case's filesystem
 * @file: the file
 * @o: the step's outcome
 * @after: where those blocks begin (iwt_dirty_after()); they end at i_size
 *
 * The step's fsync wrote them with the write's own bytes, and under the
 * same injected fault: judged as those are (iwt_expect_synced()).
 */
static void iwt_expect_synced_after(struct iwt_fs *fs, struct file *file,
				    const struct iwt_obs *o, loff_t after)
{
	struct iwt_obs dirty = *o;

	dirty.pos = after;
	dirty.ret = i_size_read(file_inode(file)) - after;
	dirty.copyable = dirty.ret;
	iwt_expect_synced(fs, file, &dirty);
}

/**
 * struct iwt_step - one step of a sweep
 * @sc: the scenario
 * @n: the injection point to fail
 * @ubuf: the user buffer, fully mapped unless the scenario faults
 * @copy: bytes the buffer lets be copied
 * @suspects: the known issues whose values the step may show (bits of
 *	&enum iwt_ki), tried in order
 * @sited: per site of the scenario, the steps so far whose injected
 *	fault showed it
 * @o: what the step saw
 */
struct iwt_step {
	const struct iwt_scenario *sc;
	unsigned int n;
	unsigned long ubuf;
	size_t copy;
	unsigned long suspects;
	unsigned int sited[IWT_SITES];
	struct iwt_obs o;
};

/**
 * iwt_sweep_kept() - clusters a sweep step's file keeps reserved after fsync
 * @fs: the case's filesystem
 * @file: the file
 * @sc: the scenario
 * @pos: write position
 * @copy: bytes the source lets be copied
 * @asked: bytes asked for
 *
 * Writeback consumes every reservation inside i_size. Past EOF, only the
 * buffer_head delalloc path keeps any, and only for a short copy that
 * made it into i_size: the rest of its folio (the table above), or a
 * rejected one whose ->write_end() moved i_size to pos and then failed. A
 * failure inside ->write_begin() truncates what that call instantiated
 * past i_size (ext4_truncate_failed_write()), and the iomap path drops the
 * unused range at once, so after any other outcome nothing is kept.
 * Called right after the write, while its folio is in the page cache: a
 * read after writeback may bring the range back in folios of another size.
 *
 * Return: the clusters that must still be reserved.
 */
static unsigned int iwt_sweep_kept(struct iwt_fs *fs, struct file *file,
				   const struct iwt_scenario *sc, loff_t pos,
				   size_t copy, size_t asked)
{
	struct inode *inode = file_inode(file);
	u64 copied_end = (pos + copy + i_blocksize(inode) - 1) >> inode->i_blkbits;
	struct iwt_expect e;

	if (sc->kind != IWT_APPEND || copy >= asked)
		return 0;
	/*
	 * journal-start-after-size on 6.12: the rejected short copy's folio
	 * was reserved and i_size moved to pos before the error; nothing
	 * truncates it, so it is kept as a short copy of nothing.
	 */
	if (i_size_read(inode) == pos) {
		iwt_expectation(fs->env, inode, pos, 0, asked, true, &e);
		return iwt_kept_clusters(fs, &e, 0, pos >> inode->i_blkbits);
	}
	if (i_size_read(inode) != pos + (loff_t)copy)
		return 0;
	iwt_expectation(fs->env, inode, pos, copy, asked, true, &e);
	return iwt_kept_clusters(fs, &e, copied_end, copied_end);
}

/**
 * iwt_sweep_expect_whole() - a step nothing was injected into returns
 *	what the write returns without fault injection
 * @fs: the case's filesystem
 * @file: the file written
 * @sc: the scenario
 * @o: the step's outcome
 * @free: clusters free for the write before it
 *
 * The bytes the source holds; with the filler, as many clusters as were
 * free (see iwt_enospc()), the first one from the write position on.
 */
static void iwt_sweep_expect_whole(struct iwt_fs *fs, struct file *file,
				   const struct iwt_scenario *sc,
				   const struct iwt_obs *o, s64 free)
{
	size_t csize = iwt_cluster_size(fs);
	s64 room = iwt_room(fs, o->pos, free);
	ssize_t want = sc->limit == IWT_NOSPACE ?
		       (ssize_t)min_t(s64, o->copyable, room) : o->copyable;

	if (o->ret == want)
		return;
	if (sc->limit == IWT_NOSPACE &&
	    iwt_enospc_known(fs, file, o->pos, o->old_size, o->copyable, free,
			     o->ret))
		return;
	KUNIT_FAIL(fs->test,
		   "the last step, with nothing injected: the write returned %zd, expected %zd (%lld clusters of %zu bytes free)",
		   o->ret, want, free, csize);
}

/**
 * iwt_expect_copied() - a sweep step's write left what it returned in
 *	the page cache
 * @fs: the case's filesystem
 * @file: the file written
 * @pos: where the write started
 * @ret: what it returned (> 0)
 *
 * Read before fsync, while the folios are dirty and the only copy cannot
 * be reclaimed: after a failed fsync the kernel may have discarded the
 * data, and a clean folio holding it may go at any time. The n-th
 * injection point still armed for the fsync is not counted by the read.
 */
static void iwt_expect_copied(struct iwt_fs *fs, struct file *file, loff_t pos,
			      ssize_t ret)
{
	unsigned int left = iwt_fail_nth_left();

	iwt_set_fail_nth(0);
	iwt_expect_data(fs, file, pos, ret, 1, "(fail-nth sweep, before fsync)");
	iwt_set_fail_nth(left);
}

/**
 * iwt_bio_faults() - count the ramdisk's bios as injection points, or not
 * @fs: the case's filesystem
 * @on: whether to
 *
 * fail_make_request considers only the bios of a device marked
 * make-it-fail; fail-nth then fails the n-th of all points, bios among
 * them, in this task only. Off again before fsync: the scenario is about
 * the reads the write does.
 */
static void iwt_bio_faults(struct iwt_fs *fs, bool on)
{
#ifdef CONFIG_FAIL_MAKE_REQUEST
	if (on)
		bdev_set_flag(fs->sb->s_bdev, BD_MAKE_IT_FAIL);
	else
		bdev_clear_flag(fs->sb->s_bdev, BD_MAKE_IT_FAIL);
#endif
}

/**
 * iwt_dirty_after() - dirty the blocks past a write's range, unsynced
 * @fs: the case's filesystem
 * @file: the file
 * @from: the first block past the range the write asks for, in bytes
 * @size: the i_size they end at
 *
 * They get the pattern the write itself copies (seed 1), so one check
 * covers what the step's fsync had to write (iwt_expect_synced()). With
 * delalloc they are delayed when the write reserves its range, and the
 * delayed extent it adds joins theirs.
 */
static void iwt_dirty_after(struct iwt_fs *fs, struct file *file, loff_t from,
			    loff_t size)
{
	struct kunit *test = fs->test;
	loff_t lblk = from >> file_inode(file)->i_blkbits;
	size_t len = size - from;

	KUNIT_ASSERT_EQ_MSG(test, iwt_write(file, iwt_user_buf(test, len, from, 1),
					    len, from), (ssize_t)len,
			    "dirtying [%lld, %lld) past the write's range", from, size);
	if (fs->env->mode->delalloc)
		KUNIT_ASSERT_EQ_MSG(test, iwt_es_state(fs, file, lblk), IWT_DELAYED,
				    "block %lld, dirtied past the write's range, before the write",
				    lblk);
}

/**
 * iwt_expect_dirty_after() - a short write kept the delayed extent after
 *	its range, and the iomap path dropped its own stale part of it
 * @fs: the case's filesystem
 * @file: the file, before fsync
 * @pos: where the write started
 * @ret: what it returned
 * @from: where the dirty blocks after its range begin (iwt_dirty_after())
 *
 * The blocks past what the write copied were reserved by it, unless the
 * failure came first. The iomap path must drop all of them, in the middle
 * of one cached delayed extent, and keep the rest; the buffer_head path
 * may keep those of the folio that took the copy, so only the blocks
 * dirtied before are checked there.
 */
static void iwt_expect_dirty_after(struct iwt_fs *fs, struct file *file,
				   loff_t pos, ssize_t ret, loff_t from)
{
	unsigned int bits = file_inode(file)->i_blkbits;
	loff_t lblk = round_up(pos + max_t(ssize_t, ret, 0), 1 << bits) >> bits;
	unsigned int left = iwt_fail_nth_left();
	enum iwt_state st;

	if (!fs->env->mode->delalloc)
		return;
	iwt_set_fail_nth(0);
	st = iwt_es_state(fs, file, from >> bits);
	KUNIT_EXPECT_EQ_MSG(fs->test, st, IWT_DELAYED,
			    "block %lld, dirtied before the write: extent-status %s after it returned %zd, expected delayed",
			    from >> bits, iwt_state_names[st], ret);
	for (; fs->env->mode->path == IWT_IOMAP && lblk < from >> bits; lblk++) {
		st = iwt_es_state(fs, file, lblk);
		KUNIT_EXPECT_NE_MSG(fs->test, st, IWT_DELAYED,
				    "block %lld, past what the write at %lld returned (%zd): still delayed, expected the stale range dropped",
				    lblk, pos, ret);
	}
	iwt_set_fail_nth(left);
}

/**
 * iwt_sweep_write() - one write and fsync with the n-th injection point
 *	failing, and every check that does not need the fault's call trace
 * @fs: the case's filesystem
 * @st: the step; @st->suspects and @st->o are filled in
 *
 * Return: true when the write and fsync completed without reaching the
 * n-th injection point: the sweep is over.
 */
static bool iwt_sweep_write(struct iwt_fs *fs, struct iwt_step *st)
{
	struct kunit *test = fs->test;
	const struct iwt_scenario *sc = st->sc;
	struct file *filler = sc->limit == IWT_NOSPACE ? iwt_fill(fs) : NULL;
	struct file *file = iwt_open(fs, IWT_FILE);
	struct inode *inode = file_inode(file);
	unsigned int bs = i_blocksize(inode), n = st->n;
	bool full = sc->copy == iwt_full || sc->limit == IWT_NOSPACE;
	size_t copy = st->copy, asked = copy + (full ? 0 : IWT_EXTRA_BLOCKS * bs);
	loff_t pos = IWT_POS_BLOCKS * bs, size = IWT_SIZE_BLOCKS * bs, end;
	/* Past the range asked for: dirty blocks, or as before the write. */
	loff_t after = sc->kind == IWT_BEFORE_DIRTY ? round_up(pos + asked, bs) : size;
	struct iwt_obs *o = &st->o;
	bool done, extended = false;
	bool failed = READ_ONCE(test->status) == KUNIT_FAILURE;
	unsigned int kept, i;
	size_t room;
	int level;
	s64 free;
	char when[48];
	ssize_t ret;
	int err;

	iwt_prepare(fs, file, sc, size);
	if (sc->kind == IWT_APPEND)
		size = 0;
	if (sc->kind == IWT_BEFORE_DIRTY)
		iwt_dirty_after(fs, file, after, size);
	free = iwt_free_clusters(fs) - atomic64_read(&iwt_sbi(fs)->s_resv_clusters);
	iwt_console_clear();
	level = iwt_traces_off_console(-1);
	iwt_set_fail_nth(n);
	iwt_bio_faults(fs, sc->bio_faults);
	ret = iwt_write(file, st->ubuf, asked, pos);
	iwt_bio_faults(fs, false);
	/* From the folios the write went through: look them up before writeback. */
	kept = iwt_sweep_kept(fs, file, sc, pos, copy, asked);
	room = iwt_first_folio_room(file->f_mapping, pos, asked);
	if (ret > 0)
		iwt_expect_copied(fs, file, pos, ret);
	if (sc->kind == IWT_BEFORE_DIRTY)
		iwt_expect_dirty_after(fs, file, pos, ret, after);
	err = vfs_fsync(file, 0);
	done = iwt_fail_nth_left() != 0;
	iwt_set_fail_nth(0);
	iwt_traces_off_console(level);
	for (i = 0; !done && i < IWT_SITES && sc->sites[i].what; i++)
		if (strstr(iwt_console.buf, sc->sites[i].what) &&
		    (!sc->sites[i].logged ||
		     iwt_known_logged(sc->sites[i].logged, iwt_console.buf)))
			st->sited[i]++;
	*o = (struct iwt_obs) {
		.injected = !done,
		.ret = ret,
		.copyable = copy,
		.room = room,
		.pos = pos,
		.old_size = size,
		.size = i_size_read(inode),
		.fsync_err = err,
	};
	st->suspects = 0;
	if (done)
		iwt_sweep_expect_whole(fs, file, sc, o, free);

	KUNIT_EXPECT_LE_MSG(test, ret, (ssize_t)copy,
			    "fail-nth=%u: write returned more than it could copy", n);
	if (ret < 0 && ret != -ENOMEM && ret != -EFAULT && ret != -ENOSPC &&
	    !(ret == -EIO && sc->bio_faults))
		KUNIT_FAIL(test, "fail-nth=%u: write returned %zd", n, ret);
	/* A failed writeback is retried with nothing injected. */
	if (err) {
		o->refsync_err = vfs_fsync(file, 0);
		KUNIT_EXPECT_EQ_MSG(test, o->refsync_err, 0,
				    "fail-nth=%u: fsync after a failed fsync (%d)", n, err);
	}
	end = ret > 0 ? pos + ret : 0;
	/* What fsync reported done must also be on disk. */
	if (ret > 0 && !o->refsync_err)
		iwt_expect_synced(fs, file, o);
	if (after < size && !o->refsync_err)
		iwt_expect_synced_after(fs, file, o, after);
	/* Outside [pos, pos + ret): as before the write. */
	iwt_expect_before(fs, file, pos, sc->kind == IWT_OVERWRITE ? 2 : -1,
			  "(before the write position, fail-nth sweep)");
	if (sc->kind != IWT_APPEND && after > max_t(loff_t, end, pos))
		iwt_expect_data(fs, file, max_t(loff_t, end, pos),
				after - max_t(loff_t, end, pos),
				sc->kind == IWT_OVERWRITE ? 2 : -1,
				"(past what the write returned, fail-nth sweep)");
	if (sc->kind == IWT_APPEND && ret < 0 && i_size_read(inode) == pos &&
	    pos > size) {
		st->suspects = BIT(IWT_KI_JOURNAL_START) |
			       BIT(fs->env->mode->path == IWT_IOMAP ?
				   IWT_KI_IOMAP_FAILED_WRITE_SIZE :
				   IWT_KI_FAILED_WRITE_SIZE);
		extended = true;
	} else if (i_size_read(inode) != max_t(loff_t, size, end)) {
		if (ret == -ENOMEM && i_size_read(inode) > pos) {
			st->suspects = BIT(IWT_KI_JOURNAL_START);
			iwt_expect_data(fs, file, pos, i_size_read(inode) - pos, 1,
					"(copied by a write that reported an error)");
		} else {
			KUNIT_FAIL(test,
				   "fail-nth=%u: i_size %lld after a write returning %zd at %lld, expected %lld",
				   n, i_size_read(inode), ret, pos, max_t(loff_t, size, end));
		}
	}
	/* After a reported writeback error the data may be gone: no size. */
	if (err || extended)
		KUNIT_EXPECT_LE_MSG(test, EXT4_I(inode)->i_disksize, i_size_read(inode),
				    "fail-nth=%u: i_disksize <= i_size after fsync", n);
	else
		KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_disksize, i_size_read(inode),
				    "fail-nth=%u: i_disksize after fsync", n);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_reserved_data_blocks, kept,
			    "fail-nth=%u: i_reserved_data_blocks after fsync (write returned %zd, i_size %lld)",
			    n, ret, i_size_read(inode));
	iwt_check_reservations(fs, file, "in the fail-nth sweep");
	iwt_sync_and_forget(fs, file, IWT_FILE);
	if (filler)
		iwt_sync_and_forget(fs, filler, "filler");
	snprintf(when, sizeof(when), "once the file is gone, fail-nth=%u", n);
	iwt_expect_baseline(fs, when);
	/* The injected fault's report and call trace say where it struck. */
	if (!failed && READ_ONCE(test->status) == KUNIT_FAILURE)
		kunit_info(test, "fail-nth=%u failed; the step's console: %.3000s",
			   n, iwt_console.buf);
	return done;
}

/**
 * iwt_faults_logged() - the injected faults the step's console shows
 *
 * Return: how many "FAULT_INJECTION: forcing a failure" reports the
 * console captured since the step began.
 */
static unsigned int iwt_faults_logged(void)
{
	static const char report[] = "FAULT_INJECTION: forcing a failure";
	const char *p = iwt_console.buf;
	unsigned int seen = 0;

	while ((p = strstr(p, report))) {
		seen++;
		p += sizeof(report) - 1;
	}
	return seen;
}

/**
 * iwt_sweep_replay() - run a step again until it repeats its outcome
 * @fs: the case's filesystem
 * @st: the step
 * @replay: filled in with the replay that repeated it, or the last one
 *
 * Only for a step whose own fault left no single report on the console
 * (a kernel without the console tracepoint, a report cut short): the
 * n-th point may shift by one or two between runs (see iwt_fail_nth()),
 * more on a debug kernel, so n is replayed, then its neighbours.
 *
 * Return: whether a replay repeated the step's values.
 */
static bool iwt_sweep_replay(struct iwt_fs *fs, const struct iwt_step *st,
			     struct iwt_step *replay)
{
	unsigned int try;

	for (try = 0; try < iwt_replay_tries(); try++) {
		*replay = *st;
		if ((int)st->n + iwt_replay_shift[try] < 1)
			continue;
		replay->n = st->n + iwt_replay_shift[try];
		iwt_sweep_write(fs, replay);
		if (replay->suspects == st->suspects && replay->o.ret == st->o.ret &&
		    replay->o.size == st->o.size && iwt_faults_logged() == 1)
			return true;
	}
	KUNIT_FAIL(fs->test,
		   "fail-nth=%u: no report of the injected fault on the console (%u seen), and replays at n, n +/- 1 .. %d did not repeat the step (-> %zd, i_size %lld; the last: %zd, i_size %lld): the injection site cannot be checked",
		   st->n, iwt_faults_logged(), iwt_replay_shift[iwt_replay_tries() - 1] * -1,
		   st->o.ret, st->o.size, replay->o.ret, replay->o.size);
	return false;
}

/**
 * iwt_sweep_step() - one step, with the injection site of a suspected
 *	known issue read from the fault's call trace
 * @fs: the case's filesystem
 * @st: the step
 *
 * The sweep runs with every injected fault reported with its call trace
 * (see iwt_knobs_init[]). A step whose values match a known issue that
 * names an injection site is judged by the trace of its own fault; only
 * when the console holds no single report is the step replayed.
 *
 * Return: true when the sweep is over.
 */
static bool iwt_sweep_step(struct iwt_fs *fs, struct iwt_step *st)
{
	bool done = iwt_sweep_write(fs, st);
	struct iwt_obs *o = &st->o;
	struct iwt_step replay;
	unsigned int ki;

	if (!st->suspects)
		return done;
	if (iwt_faults_logged() != 1) {
		if (!iwt_sweep_replay(fs, st, &replay))
			return done;
		o = &replay.o;
	}
	o->console = iwt_console.buf;
	for_each_set_bit(ki, &st->suspects, IWT_KI_NR)
		if (iwt_known_issue(fs, ki, o))
			return done;
	KUNIT_FAIL(fs->test,
		   "fail-nth=%u: i_size %lld after a write returning %zd at %lld (from %lld)",
		   st->n, st->o.size, st->o.ret, st->o.pos, st->o.old_size);
	return done;
}

/*
 * Passes a sweep whose scenario names a site runs at most, until one step
 * has failed at each (see iwt_site_wanted()).
 */
#define IWT_SITE_PASSES		10

/**
 * iwt_site_wanted() - whether the sweep must fail at one of its sites
 * @fs: the case's filesystem
 * @site: the site
 *
 * The sweep fails each of the write's points once, so on a path that
 * reaches a site it must fail it, and the step's checks then judge what
 * the error path left. The sites: on the iomap path with delalloc,
 * dropping the stale range of a write that ends where dirty blocks begin
 * removes the middle of one cached delayed extent, and
 * ext4_es_remove_extent() allocates for the split (retried with
 * __GFP_NOFAIL when that fails); on every path, reading the rest of the
 * last, partial block of an overwrite (the read's bio fails); and on the
 * buffer_head path with delalloc, converting the unwritten blocks that
 * writeback allocated, at I/O completion (%IWT_SITE_CONVERT). As any
 * point can, a site can be stepped over in a pass (see iwt_fail_nth()):
 * passes go on, up to %IWT_SITE_PASSES, until a step has failed it.
 *
 * Return: true where a step must fail at @site.
 */
static bool iwt_site_wanted(const struct iwt_fs *fs, const struct iwt_site *site)
{
	const struct iwt_env *env = site->of_mount ? fs->mounted : fs->env;

	return site->what && (site->paths & iwt_mode_bit(env->mode));
}

/**
 * iwt_sites_missed() - how many wanted sites no step has failed at yet
 * @fs: the case's filesystem
 * @st: the sweep's state
 *
 * Return: the number of @st's scenario's sites that iwt_site_wanted()
 * wants and that no step of the passes so far has failed at.
 */
static unsigned int iwt_sites_missed(const struct iwt_fs *fs,
				     const struct iwt_step *st)
{
	unsigned int i, missed = 0;

	for (i = 0; i < IWT_SITES; i++)
		if (iwt_site_wanted(fs, &st->sc->sites[i]) && !st->sited[i])
			missed++;
	return missed;
}

/*
 * The sweep: each injection point of the write and its fsync fails once,
 * on a filesystem that is unmounted and checked on disk at the end.
 *
 * Which point the n-th is shifts now and then by one: whether a kmalloc()
 * has to refill its slab from the page allocator (an injection point of
 * fail_page_alloc) depends on the slab's state, not on the write. A point
 * skipped in one pass is reached in the other, so the sweep runs twice and
 * the known issues met are those of both passes; and a pass goes on a few
 * steps past the last point it reached (iwt_sweep_tail()). A sweep whose
 * scenario names sites runs more passes until it has failed at each of
 * them (iwt_site_wanted()).
 */
static void iwt_fail_nth(struct kunit *test)
{
	const struct iwt_case *c = test->param_value;
	struct iwt_fs *fs = iwt_setup(test, &c->env);
	unsigned int bs = c->env.geo->block_size, n, pass, last, i;
	struct iwt_step st = { .sc = c->sc, .copy = c->sc->copy(bs) };

	iwt_faults_setup(test, c->sc->bio_faults);
	st.ubuf = iwt_user_buf(test, st.copy, IWT_POS_BLOCKS * bs, 1);
	for (pass = 1; pass <= IWT_SWEEP_PASSES ||
	     (pass <= IWT_SITE_PASSES && iwt_sites_missed(fs, &st));
	     pass++) {
		if (READ_ONCE(test->status) == KUNIT_FAILURE)
			break;
		last = 0;
		for (n = 1; n <= IWT_SWEEP_MAX; n++) {
			st.n = n;
			if (!iwt_sweep_step(fs, &st))
				last = n;
			if (n - last == iwt_sweep_tail() ||
			    READ_ONCE(test->status) == KUNIT_FAILURE)
				break;
		}
		kunit_info(test, "pass %u: %u injection points exercised", pass, last);
		KUNIT_EXPECT_LE_MSG(test, n, IWT_SWEEP_MAX, "the sweep did not converge");
		KUNIT_EXPECT_GT_MSG(test, last, 1U, "injection points reached by the write");
	}
	for (i = 0; i < IWT_SITES && c->sc->sites[i].what; i++) {
		const struct iwt_site *site = &c->sc->sites[i];

		const char *logged = site->logged ? site->logged->id : NULL;

		kunit_info(test, "%u steps failed at \"%s\"%s%s", st.sited[i], site->what,
			   logged ? " and logged the messages of " : "", logged ?: "");
		if (iwt_site_wanted(fs, site) && READ_ONCE(test->status) != KUNIT_FAILURE)
			KUNIT_EXPECT_GT_MSG(test, st.sited[i], 0U,
					    "no step of %u passes had its fault show \"%s\"%s%s",
					    pass - 1, site->what,
					    logged ? " and log the messages of " : "",
					    logged ?: "");
	}
	iwt_unmount(fs);
	iwt_check_disk(fs);
	iwt_finish(fs);
}

/* --------------------------------------------------------------------
 * Races: a short write while another thread writes the file back,
 * truncates or punches it, writes to it through a shared mapping, writes
 * it as well, or reads it. They are meant for SMP kernels (x86_64 here,
 * two CPUs); on one CPU the threads mostly take turns, and the cases
 * still check every round.
 */

static unsigned int race_ms = 2000;
module_param(race_ms, uint, 0444);
MODULE_PARM_DESC(race_ms,
		 "milliseconds each iwt_race case races for (at least one round)");

/*
 * In blocks: the data written whole before each round (writeback has it to
 * convert while the short write runs), where the short write starts, what
 * it asks for, and the span every round's checks cover.
 */
#define IWT_RACE_HEAD		4
#define IWT_RACE_POS		8
#define IWT_RACE_ASK		48
#define IWT_RACE_SPAN		(IWT_RACE_POS + IWT_RACE_ASK + 8)

/* The source ends inside a block, far into the write. */
static size_t iwt_race_copy(unsigned int bs)
{
	return 40 * bs + bs / 2 + 3;
}

/**
 * enum iwt_partner - what races the short write
 * @IWT_RACE_WRITEBACK: filemap_fdatawrite_range() of the whole file, first
 *	while the write waits for the last page of its source (the page is
 *	a locked page-cache folio of another file: the write faults on it
 *	after its mapping was made), then over and over while it runs
 * @IWT_RACE_TRUNCATE: a truncate into the range the write copies
 * @IWT_RACE_PUNCH: a hole punched inside the range the write copies
 * @IWT_RACE_MMAP: stores through a shared mapping around the write: just
 *	before it, just past the short copy in the block it stops in, and in
 *	the range it asked for but never copied
 * @IWT_RACE_WRITER: a second write over the short copy's end and past it
 * @IWT_RACE_READER: reads of the whole file while the write runs
 */
enum iwt_partner {
	IWT_RACE_WRITEBACK,
	IWT_RACE_TRUNCATE,
	IWT_RACE_PUNCH,
	IWT_RACE_MMAP,
	IWT_RACE_WRITER,
	IWT_RACE_READER,
};

/**
 * struct iwt_race_kind - one race
 * @name: short name used in case names
 * @partner: what the other thread does
 * @in_size: the file is sized past the write first, so the write lands in
 *	a hole inside i_size (stores through a mapping need that)
 * @serialised: the partner takes i_rwsem, so it runs wholly before or
 *	wholly after the write; the outcome is one of the two orders
 */
struct iwt_race_kind {
	const char *name;
	enum iwt_partner partner;
	bool in_size;
	bool serialised;
};

static const struct iwt_race_kind iwt_race_kinds[] = {
	{ "writeback",		IWT_RACE_WRITEBACK,	false,	false },
	{ "truncate",		IWT_RACE_TRUNCATE,	false,	true },
	{ "punch-hole",		IWT_RACE_PUNCH,		true,	true },
	{ "mmap-write",		IWT_RACE_MMAP,		true,	false },
	{ "second-writer",	IWT_RACE_WRITER,	false,	true },
	{ "reader",		IWT_RACE_READER,	false,	false },
};

/**
 * struct iwt_race_case - a race's parameter: a race in a mode, 1k blocks
 * @kind: the race
 * @env: mode and geometry
 */
struct iwt_race_case {
	const struct iwt_race_kind *kind;
	struct iwt_env env;
};

static struct iwt_race_case iwt_race_params[ARRAY_SIZE(iwt_race_kinds) *
					    ARRAY_SIZE(iwt_modes)];

static void iwt_init_races(void)
{
	unsigned int m, k, i = 0;

	for (m = 0; m < ARRAY_SIZE(iwt_modes); m++)
		for (k = 0; k < ARRAY_SIZE(iwt_race_kinds); k++) {
			iwt_race_params[i].kind = &iwt_race_kinds[k];
			iwt_race_params[i].env.mode = &iwt_modes[m];
			/* Blocks smaller than a page, and than any folio. */
			iwt_race_params[i++].env.geo = &iwt_geometries[0];
		}
}

static const void *iwt_race_gen(IWT_GEN_ARGS)
{
	const struct iwt_race_case *c = prev ?
		(const struct iwt_race_case *)prev + 1 : iwt_race_params;

	if (c >= iwt_race_params + ARRAY_SIZE(iwt_race_params))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s/%s", c->env.mode->name,
		 c->env.geo->name, c->kind->name);
	return c;
}

/**
 * struct iwt_model - what the file must hold
 * @data: its bytes, from 0 to %IWT_RACE_SPAN blocks
 * @size: its i_size
 */
struct iwt_model {
	u8 *data;
	loff_t size;
};

static void iwt_model_write(struct iwt_model *m, loff_t pos, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		m->data[pos + i] = iwt_pattern(pos + i, seed);
	m->size = max_t(loff_t, m->size, pos + len);
}

/**
 * struct iwt_race - a race case's shared state
 * @fs: the case's filesystem
 * @kind: the race
 * @file: the file both threads work on
 * @task: the partner thread
 * @mm: the case's user memory, which the partner stores through (mmap)
 * @map: user address of the file's shared mapping (mmap)
 * @go: the main thread starts a round
 * @done: the partner finished its part of the round, or stopped
 * @stop: the partner is to exit
 * @writing: the short write is running; a repeating partner goes on
 * @err: the partner's first error in the round
 * @ops: the partner's operations in the round
 * @total_ops: and in the case
 * @pos: where the short write starts
 * @copy: bytes its source holds
 * @ask: bytes it asks for
 * @at: where the partner truncates, punches or writes
 * @len: bytes it punches or writes
 * @src: what the second writer writes, or stores through the mapping
 * @gate_file: the file whose first page ends the source (writeback)
 * @gate: that page's folio, locked until writeback ran in the round
 * @gated: rounds in which the write was waiting on it when writeback ran
 * @rbuf: the reader's buffer
 * @bad: bytes the reader saw that the file never holds
 * @bad_at: the first of them
 * @bad_byte: its value
 * @ret: what the round's write returned
 * @past_eof: checks that met iomap-writeback-past-short-write
 * @want: the outcome after the write, then the partner's (or the only one)
 * @alt: the outcome after the partner, then the write (serialised)
 */
struct iwt_race {
	struct iwt_fs *fs;
	const struct iwt_race_kind *kind;
	struct file *file;
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned long map;
	struct completion go;
	struct completion done;
	bool stop;
	bool writing;
	int err;
	unsigned int ops;
	unsigned long total_ops;
	loff_t pos;
	size_t copy;
	size_t ask;
	loff_t at;
	size_t len;
	u8 *src;
	struct file *gate_file;
	struct folio *gate;
	unsigned int gated;
	u8 *rbuf;
	unsigned int bad;
	loff_t bad_at;
	u8 bad_byte;
	ssize_t ret;
	unsigned int past_eof;
	struct iwt_model want;
	struct iwt_model alt;
};

/* The mapping's stores, as [offset, offset + 100): see IWT_RACE_MMAP. */
static void iwt_race_stores(const struct iwt_race *r, loff_t at[3])
{
	unsigned int bs = r->fs->env->geo->block_size;

	at[0] = r->pos - 100;
	at[1] = r->pos + r->copy + 200;
	at[2] = (IWT_RACE_POS + IWT_RACE_ASK - 2) * bs + 10;
}

/* The reader: every byte it sees must be what the file ends up holding. */
static void iwt_race_read(struct iwt_race *r)
{
	loff_t pos = 0;
	ssize_t got = kernel_read(r->file, r->rbuf,
				  IWT_RACE_SPAN * r->fs->env->geo->block_size,
				  &pos);
	ssize_t i;

	if (got < 0) {
		r->err = r->err ?: got;
		return;
	}
	for (i = 0; i < got; i++) {
		if (r->rbuf[i] == r->want.data[i])
			continue;
		if (!r->bad++) {
			r->bad_at = i;
			r->bad_byte = r->rbuf[i];
		}
	}
}

static int iwt_race_op(struct iwt_race *r)
{
	struct file *file = r->file;
	loff_t at[3], pos = r->at;
	unsigned int i;

	switch (r->kind->partner) {
	case IWT_RACE_WRITEBACK:
		return filemap_fdatawrite_range(file->f_mapping, 0, LLONG_MAX);
	case IWT_RACE_TRUNCATE:
		return vfs_truncate(&file->f_path, r->at);
	case IWT_RACE_PUNCH:
		return vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     r->at, r->len);
	case IWT_RACE_MMAP:
		iwt_race_stores(r, at);
		for (i = 0; i < ARRAY_SIZE(at); i++)
			if (copy_to_user((void __user *)(r->map + at[i]),
					 r->src + at[i], 100))
				return -EFAULT;
		return 0;
	case IWT_RACE_WRITER:
		return kernel_write(file, r->src + r->at, r->len, &pos) ==
		       (ssize_t)r->len ? 0 : -EIO;
	case IWT_RACE_READER:
		iwt_race_read(r);
		return 0;
	}
	return -EINVAL;
}

/* Writeback while the write waits on its source's last page, then let it go. */
static int iwt_race_open_gate(struct iwt_race *r)
{
	unsigned long until = jiffies + HZ;
	int err;

	while (!folio_test_waiters(r->gate) && time_before(jiffies, until))
		usleep_range(20, 50);
	r->gated += folio_test_waiters(r->gate);
	err = filemap_fdatawrite_range(r->file->f_mapping, 0, LLONG_MAX);
	folio_unlock(r->gate);
	folio_put(r->gate);
	r->gate = NULL;
	return err;
}

static int iwt_race_partner(void *data)
{
	struct iwt_race *r = data;
	int err;

	if (r->mm)
		kthread_use_mm(r->mm);
	for (;;) {
		wait_for_completion(&r->go);
		if (READ_ONCE(r->stop))
			break;
		/* Land before, inside or after the write. */
		udelay(get_random_u32_below(100));
		if (r->gate) {
			err = iwt_race_open_gate(r);
			if (err && !r->err)
				r->err = err;
		}
		do {
			err = iwt_race_op(r);
			if (err && !r->err)
				r->err = err;
			r->ops++;
			/* On one CPU without preemption, let the write go on. */
			cond_resched();
		} while (!r->kind->serialised && READ_ONCE(r->writing));
		complete(&r->done);
	}
	if (r->mm)
		kthread_unuse_mm(r->mm);
	return 0;
}

static void iwt_race_stop(void *ctx)
{
	struct iwt_race *r = ctx;

	WRITE_ONCE(r->stop, true);
	WRITE_ONCE(r->writing, false);
	complete(&r->go);
	kthread_stop_put(r->task);
	if (r->gate) {
		folio_unlock(r->gate);
		folio_put(r->gate);
	}
}

/*
 * Buffered writes through iomap whose mapping went stale under them:
 * iomap_write_begin() found ->iomap_valid() false (ext4: i_es_seq moved)
 * and set IOMAP_F_STALE, which the next iomap_iter() call, seen here on
 * its tracepoint, maps again.
 */
static atomic_t iwt_revalidated = ATOMIC_INIT(0);
static struct inode *iwt_race_inode;

#ifdef CONFIG_TRACEPOINTS
static void iwt_probe_iomap_iter(void *ignore, struct iomap_iter *iter,
				 const void *ops, unsigned long caller)
{
	const unsigned int not_write = IOMAP_ZERO | IOMAP_UNSHARE |
				       IOMAP_DIRECT | IOMAP_FAULT;

	if (iter->inode == READ_ONCE(iwt_race_inode) &&
	    (iter->flags & IOMAP_WRITE) && !(iter->flags & not_write) &&
	    (iter->iomap.flags & IOMAP_F_STALE))
		atomic_inc(&iwt_revalidated);
}

static void iwt_find_iomap_iter(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "iomap_iter"))
		*(struct tracepoint **)priv = tp;
}
#endif

static void iwt_count_stop(void *tp)
{
	WRITE_ONCE(iwt_race_inode, NULL);
#ifdef CONFIG_TRACEPOINTS
	tracepoint_probe_unregister(tp, iwt_probe_iomap_iter, NULL);
	tracepoint_synchronize_unregister();
#endif
}

/**
 * iwt_count_revalidations() - count stale iomap mappings of an inode
 * @test: the running case
 * @inode: the file's inode
 *
 * Return: whether the count runs (the kernel has the iomap_iter tracepoint).
 */
static bool iwt_count_revalidations(struct kunit *test, struct inode *inode)
{
	struct tracepoint *tp = NULL;

	atomic_set(&iwt_revalidated, 0);
#ifdef CONFIG_TRACEPOINTS
	for_each_kernel_tracepoint(iwt_find_iomap_iter, &tp);
	if (!tp || tracepoint_probe_register(tp, iwt_probe_iomap_iter, NULL))
		return false;
	WRITE_ONCE(iwt_race_inode, inode);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_count_stop, tp), 0);
#endif
	return tp;
}

/**
 * iwt_race_outcomes() - what the file may hold after a round
 * @r: the race
 *
 * Every round starts from %IWT_RACE_HEAD blocks written whole (and, for
 * @in_size races, i_size past the write). A serialised partner ran before
 * or after the write; the others change no byte the write copies.
 */
static void iwt_race_outcomes(struct iwt_race *r)
{
	struct kunit *test = r->fs->test;
	unsigned int bs = r->fs->env->geo->block_size;
	size_t span = IWT_RACE_SPAN * bs;
	struct iwt_model *m, *first[2] = { &r->want, &r->alt };
	loff_t at[3];
	unsigned int i, k;

	r->pos = IWT_RACE_POS * bs;
	r->copy = iwt_race_copy(bs);
	r->ask = IWT_RACE_ASK * bs;
	r->src = kunit_kzalloc(test, span, GFP_KERNEL);
	r->rbuf = kunit_kzalloc(test, span, GFP_KERNEL);
	r->want.data = kunit_kzalloc(test, span, GFP_KERNEL);
	r->alt.data = kunit_kzalloc(test, span, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->src);
	KUNIT_ASSERT_NOT_NULL(test, r->rbuf);
	KUNIT_ASSERT_NOT_NULL(test, r->want.data);
	KUNIT_ASSERT_NOT_NULL(test, r->alt.data);
	for (i = 0; i < span; i++)
		r->src[i] = iwt_pattern(i, 2 + (r->kind->partner == IWT_RACE_MMAP));

	switch (r->kind->partner) {
	case IWT_RACE_TRUNCATE:
		r->at = r->pos + 20 * bs + 100;
		break;
	case IWT_RACE_PUNCH:
		r->at = r->pos + 10 * bs + 300;
		r->len = 12 * bs;
		break;
	case IWT_RACE_WRITER:
		r->at = r->pos + 36 * bs + 50;
		r->len = 8 * bs + 77;
		break;
	default:
		break;
	}

	for (k = 0; k < 2; k++) {
		m = first[k];
		m->size = 0;
		iwt_model_write(m, 0, IWT_RACE_HEAD * bs, 4);
		if (r->kind->in_size)
			m->size = r->pos + r->ask;
	}
	/* k = 0: the write, then the partner; k = 1: the other way round. */
	for (k = 0; k < 2; k++) {
		bool after = !k;

		m = first[k];
		if (after || !r->kind->serialised)
			iwt_model_write(m, r->pos, r->copy, 1);
		switch (r->kind->partner) {
		case IWT_RACE_TRUNCATE:
			if (r->at < m->size)
				memset(m->data + r->at, 0, m->size - r->at);
			m->size = r->at;
			break;
		case IWT_RACE_PUNCH:
			memset(m->data + r->at, 0, r->len);
			break;
		case IWT_RACE_MMAP:
			iwt_race_stores(r, at);
			for (i = 0; i < ARRAY_SIZE(at); i++)
				memcpy(m->data + at[i], r->src + at[i], 100);
			break;
		case IWT_RACE_WRITER:
			memcpy(m->data + r->at, r->src + r->at, r->len);
			m->size = max_t(loff_t, m->size, r->at + r->len);
			break;
		default:
			break;
		}
		if (!after && r->kind->serialised)
			iwt_model_write(m, r->pos, r->copy, 1);
	}
}

/**
 * iwt_race_allowed() - the block states a round may leave
 * @env: mode and path
 * @data: the block holds bytes written in the round
 * @faulted: a store through the mapping dirtied its folio
 * @past_eof: it lies wholly beyond EOF
 * @synced: after fsync
 *
 * Beyond EOF only what a short write leaves there (see iwt_expectation()):
 * the delayed reservation the buffer_head path keeps, the unwritten blocks
 * iomap's nodelalloc mapping allocated; never data. After fsync blocks
 * with data are written, and nothing inside i_size is delayed.
 *
 * Return: bit mask of &enum iwt_state.
 */
static unsigned int iwt_race_allowed(const struct iwt_env *env, bool data,
				     bool faulted, bool past_eof, bool synced)
{
	bool iomap = env->mode->path == IWT_IOMAP, da = env->mode->delalloc;
	unsigned int mapped = BIT(IWT_UNWRITTEN) | BIT(IWT_WRITTEN);

	if (past_eof)
		return BIT(IWT_HOLE) | (da && !iomap ? BIT(IWT_DELAYED) : 0) |
		       (!da && iomap ? BIT(IWT_UNWRITTEN) : 0);
	if (synced)
		return data ? BIT(IWT_WRITTEN) : BIT(IWT_HOLE) | mapped;
	if (data)
		return mapped | (da ? BIT(IWT_DELAYED) : 0);
	/*
	 * The rest of the buffer_head path's short-copy folio stays delayed;
	 * so do all blocks of a folio a store through the mapping dirtied
	 * (->page_mkwrite() maps the whole folio inside i_size).
	 */
	return BIT(IWT_HOLE) | mapped |
	       (da && (!iomap || faulted) ? BIT(IWT_DELAYED) : 0);
}

/* Whether a store through the mapping lands in the folio holding @lblk. */
static bool iwt_race_faulted(const struct iwt_race *r, u64 lblk)
{
	struct address_space *mapping = r->file->f_mapping;
	loff_t at[3], start, size;
	unsigned int i;

	if (r->kind->partner != IWT_RACE_MMAP)
		return false;
	size = iwt_folio_span(mapping, lblk << mapping->host->i_blkbits, &start);
	iwt_race_stores(r, at);
	for (i = 0; i < ARRAY_SIZE(at); i++)
		if (at[i] + 100 > start && at[i] < start + size)
			return true;
	return false;
}

/**
 * iwt_race_past_eof() - unwritten blocks past EOF on the iomap delalloc path
 * @r: the race
 * @lo: first such block
 * @hi: block past the last
 * @round: for the failure message
 *
 * A short write leaves none there (the series drops the stale delalloc
 * range); only iomap-writeback-past-short-write may, exactly.
 */
static void iwt_race_past_eof(struct iwt_race *r, u64 lo, u64 hi,
			      unsigned int round)
{
	struct iwt_fs *fs = r->fs;
	unsigned int bits = file_inode(r->file)->i_blkbits;
	struct iwt_obs o = {
		.ret = r->ret,
		.copyable = r->copy,
		.pos = r->pos,
		.size = i_size_read(file_inode(r->file)),
		.lo = r->pos + r->ret,
		.hi = round_up(r->pos + r->ask, 1 << bits),
		.concurrent = r->kind->partner == IWT_RACE_WRITEBACK ? r->ops : 0,
		.unw_lo = lo << bits,
		.unw_hi = hi << bits,
	};

	if (r->kind->in_size || !iwt_known_issue(fs, IWT_KI_WB_PAST_EOF, &o)) {
		KUNIT_FAIL(fs->test,
			   "round %u: blocks %llu-%llu past EOF (i_size %lld) unwritten, expected hole",
			   round, lo, hi - 1, o.size);
		return;
	}
	r->past_eof++;
}

/**
 * iwt_race_states() - every block's state allowed, delayed ones reserved
 * @r: the race
 * @m: the outcome the file holds
 * @synced: after fsync
 * @round: for the failure message
 */
static void iwt_race_states(struct iwt_race *r, const struct iwt_model *m,
			    bool synced, unsigned int round)
{
	struct iwt_fs *fs = r->fs;
	struct inode *inode = file_inode(r->file);
	unsigned int bs = fs->env->geo->block_size;
	bool suspect = fs->env->mode->path == IWT_IOMAP && fs->env->mode->delalloc;
	u64 lblk, eof = DIV_ROUND_UP(m->size, bs), delayed = 0;
	u64 unw_lo = 0, unw_hi = 0;
	char what[64];

	for (lblk = 0; lblk < IWT_RACE_SPAN; lblk++) {
		bool data = !!memchr_inv(m->data + lblk * bs, 0, bs);
		unsigned int allowed = iwt_race_allowed(fs->env, data,
							iwt_race_faulted(r, lblk),
							lblk >= eof, synced);

		/* Taken up below as a whole: iomap-writeback-past-short-write. */
		if (suspect && lblk >= eof &&
		    iwt_block_state(fs, r->file, lblk) == IWT_UNWRITTEN) {
			if (!unw_hi)
				unw_lo = lblk;
			unw_hi = lblk + 1;
			continue;
		}

		snprintf(what, sizeof(what), "round %u, %s, %s%s", round,
			 synced ? "after fsync" : "before fsync",
			 lblk >= eof ? "past EOF" : "inside i_size",
			 data ? ", holding data" : "");
		delayed += iwt_expect_states(fs, r->file, lblk, lblk + 1,
					     allowed, what);
	}
	if (unw_hi)
		iwt_race_past_eof(r, unw_lo, unw_hi, round);
	snprintf(what, sizeof(what), "after round %u %s", round,
		 synced ? "and fsync" : "(before fsync)");
	iwt_check_reservations(fs, r->file, what);
	KUNIT_EXPECT_EQ_MSG(fs->test, (u64)EXT4_I(inode)->i_reserved_data_blocks,
			    delayed,
			    "i_reserved_data_blocks vs delayed blocks in [0, %u) %s",
			    IWT_RACE_SPAN, what);
}

/**
 * iwt_race_match() - which outcome the file holds
 * @r: the race
 * @round: for the failure message
 * @when: for the failure message
 *
 * Return: the outcome, or NULL (the case failed) when it holds neither.
 */
static const struct iwt_model *iwt_race_match(struct iwt_race *r,
					      unsigned int round,
					      const char *when)
{
	struct iwt_fs *fs = r->fs;
	const struct iwt_model *m[2] = { &r->want, &r->alt };
	loff_t size = i_size_read(file_inode(r->file)), rpos = 0, at[2];
	unsigned int nr = r->kind->serialised ? 2 : 1, k;
	size_t len = IWT_RACE_SPAN * fs->env->geo->block_size;
	ssize_t got;

	memset(r->rbuf, 0, len);
	got = kernel_read(r->file, r->rbuf, len, &rpos);
	KUNIT_ASSERT_GE_MSG(fs->test, got, 0, "round %u: read back %s", round, when);
	for (k = 0; k < nr; k++) {
		at[k] = -1;
		if (size != m[k]->size || got != min_t(loff_t, size, len))
			continue;
		for (at[k] = 0; at[k] < got; at[k]++)
			if (r->rbuf[at[k]] != m[k]->data[at[k]])
				break;
		if (at[k] == got)
			return m[k];
	}
	if (at[0] < 0)
		KUNIT_FAIL(fs->test,
			   "round %u %s: i_size %lld (%zd bytes read), expected %lld as after the write and then the %s%s",
			   round, when, size, got, r->want.size, r->kind->name,
			   nr > 1 ? "; nor is it what the other order gives" : "");
	else
		KUNIT_FAIL(fs->test,
			   "round %u %s: byte %lld (block %lld) holds %#04x, expected %#04x as after the write and then the %s%s",
			   round, when, at[0], at[0] / fs->env->geo->block_size,
			   r->rbuf[at[0]], r->want.data[at[0]], r->kind->name,
			   nr > 1 ? "; nor is it what the other order gives" : "");
	return NULL;
}

#define IWT_RACE_GATE		"gate"

/**
 * iwt_race_gate() - end the short write's source with a page of another file
 * @r: the race
 * @ubuf: the source, as iwt_user_buf() made it
 *
 * The gate file's first page holds what the source's last page held, and
 * is mapped over it: a round locks its folio and drops the mapping's page
 * table entry, so the write faults there and waits with its iomap (or
 * ->write_begin()) mapping made, until the partner has run writeback.
 */
static void iwt_race_gate(struct iwt_race *r, unsigned long ubuf)
{
	struct kunit *test = r->fs->test;
	unsigned long page = ubuf + r->copy - PAGE_SIZE;
	loff_t at = r->pos + r->copy - PAGE_SIZE, off = 0;
	u8 *buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_TRUE(test, PAGE_ALIGNED(page));
	for (i = 0; i < PAGE_SIZE; i++)
		buf[i] = iwt_pattern(at + i, 1);
	r->gate_file = iwt_open(r->fs, IWT_RACE_GATE);
	KUNIT_ASSERT_EQ(test, kernel_write(r->gate_file, buf, PAGE_SIZE, &off),
			(ssize_t)PAGE_SIZE);
	/* Written, so the round's reservations are the other file's alone. */
	KUNIT_ASSERT_EQ(test, vfs_fsync(r->gate_file, 0), 0);
	KUNIT_ASSERT_EQ(test, kunit_vm_mmap(test, r->gate_file, page, PAGE_SIZE,
					    PROT_READ, MAP_SHARED | MAP_FIXED, 0),
			page);
}

/**
 * iwt_race_round() - one round: reset, race, check
 * @r: the race
 * @ubuf: the short write's source
 * @round: its number
 *
 * Return: 0 when the write took i_rwsem first, 1 when the partner did (or
 * it does not take it), -1 when the round failed.
 */
static int iwt_race_round(struct iwt_race *r, unsigned long ubuf,
			  unsigned int round)
{
	struct iwt_fs *fs = r->fs;
	struct kunit *test = fs->test;
	struct file *file = r->file;
	struct inode *inode = file_inode(file);
	unsigned int bs = fs->env->geo->block_size;
	const struct iwt_model *m;
	loff_t pos = 0;
	ssize_t ret;

	KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, 0), 0);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_reserved_data_blocks, 0U,
			    "round %u: i_reserved_data_blocks once truncated to 0",
			    round);
	KUNIT_ASSERT_EQ(test, kernel_write(file, r->want.data, IWT_RACE_HEAD * bs,
					   &pos), (ssize_t)(IWT_RACE_HEAD * bs));
	if (r->kind->in_size)
		KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, r->pos + r->ask), 0);

	if (r->gate_file) {
		struct address_space *mapping = r->gate_file->f_mapping;

		unmap_mapping_range(mapping, 0, PAGE_SIZE, 0);
		r->gate = filemap_lock_folio(mapping, 0);
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(r->gate),
				       "round %u: the source's last page is not cached",
				       round);
	}
	r->err = 0;
	r->ops = 0;
	r->bad = 0;
	WRITE_ONCE(r->writing, true);
	complete(&r->go);
	udelay(get_random_u32_below(100));
	ret = iwt_write(file, ubuf, r->ask, r->pos);
	r->ret = ret;
	WRITE_ONCE(r->writing, false);
	wait_for_completion(&r->done);
	r->total_ops += r->ops;

	KUNIT_EXPECT_EQ_MSG(test, ret, (ssize_t)r->copy,
			    "round %u: write of %zu bytes at offset %lld, source ends after %zu",
			    round, r->ask, r->pos, r->copy);
	KUNIT_EXPECT_EQ_MSG(test, r->err, 0, "round %u: the %s partner's error",
			    round, r->kind->name);
	KUNIT_EXPECT_EQ_MSG(test, r->bad, 0U,
			    "round %u: bytes a reader saw that the file never holds; first at byte %lld (block %lld): %#04x, expected %#04x",
			    round, r->bad_at, r->bad_at / bs, r->bad_byte,
			    r->want.data[r->bad_at]);
	m = iwt_race_match(r, round, "(in the page cache)");
	if (!m)
		return -1;
	iwt_race_states(r, m, false, round);
	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	iwt_race_states(r, m, true, round);
	if (r->map)
		unmap_mapping_range(file->f_mapping, 0, 0, 1);
	iwt_drop_cache(fs, file);
	if (m != iwt_race_match(r, round, "(read from disk)"))
		return -1;
	iwt_expect_clean(fs);
	if (READ_ONCE(test->status) == KUNIT_FAILURE)
		return -1;
	return m == &r->alt || !r->kind->serialised;
}

/*
 * A short write against a partner thread, round after round for race_ms
 * milliseconds. After each round the file holds what one order of the two
 * gives, every block's state is one a short write may leave, the delayed
 * blocks are exactly the reserved ones, and after fsync and a cache drop
 * the data read from disk is the same. On the iomap path writeback must
 * make a write's mapping stale at least once.
 */
static void iwt_race(struct kunit *test)
{
	const struct iwt_race_case *c = test->param_value;
	struct iwt_fs *fs = iwt_setup(test, &c->env);
	struct iwt_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long deadline, start = jiffies, ubuf;
	unsigned int round = 0, order[2] = {}, stale;
	bool counting = false;
	int got;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->fs = fs;
	r->kind = c->kind;
	r->file = iwt_open(fs, IWT_FILE);
	iwt_race_outcomes(r);
	ubuf = iwt_user_buf(test, r->copy, r->pos, 1);
	if (c->kind->partner == IWT_RACE_WRITEBACK)
		iwt_race_gate(r, ubuf);
	if (c->kind->partner == IWT_RACE_MMAP) {
		r->map = kunit_vm_mmap(test, r->file, 0, r->pos + r->ask,
				       PROT_READ | PROT_WRITE, MAP_SHARED, 0);
		KUNIT_ASSERT_NE_MSG(test, r->map, 0, "shared mapping of %zu bytes",
				    (size_t)(r->pos + r->ask));
		r->mm = current->mm;
	}
	init_completion(&r->go);
	init_completion(&r->done);
	r->task = kthread_run(iwt_race_partner, r, "iwt-race-%s", c->kind->name);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->task));
	get_task_struct(r->task);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, iwt_race_stop, r), 0);
	if (fs->env->mode->path == IWT_IOMAP)
		counting = iwt_count_revalidations(test, file_inode(r->file));

	deadline = start + msecs_to_jiffies(race_ms);
	do {
		got = iwt_race_round(r, ubuf, ++round);
		if (got >= 0)
			order[got]++;
	} while (got >= 0 && time_before(jiffies, deadline));
	stale = atomic_read(&iwt_revalidated);
	kunit_release_action(test, iwt_race_stop, r);
	/* The mapping holds the file: unmap it, or unlink frees nothing. */
	if (r->map)
		KUNIT_EXPECT_EQ(test, vm_munmap(r->map, r->pos + r->ask), 0);

	kunit_info(test, "%u rounds in %u ms on %u CPUs; %lu %s operations%s",
		   round, jiffies_to_msecs(jiffies - start), num_online_cpus(),
		   r->total_ops, c->kind->name,
		   c->kind->serialised ? "" : ", concurrent with the write");
	if (c->kind->serialised)
		kunit_info(test, "the write took i_rwsem first in %u rounds, the %s in %u",
			   order[0], c->kind->name, order[1]);
	if (r->gate_file) {
		kunit_info(test, "writeback ran while the write waited on its source in %u rounds",
			   r->gated);
		if (got >= 0)
			KUNIT_EXPECT_EQ_MSG(test, r->gated, round,
					    "rounds whose write waited on its source's last page while writeback ran");
	}
	if (counting)
		kunit_info(test, "iomap mappings found stale during a write and mapped again: %u",
			   stale);
	else if (fs->env->mode->path == IWT_IOMAP)
		kunit_info(test, "no iomap_iter tracepoint: stale mappings not counted");
	if (r->past_eof)
		kunit_info(test, "blocks left allocated past EOF (iomap-writeback-past-short-write) in %u checks",
			   r->past_eof);
	/*
	 * Writeback changes the extent-status tree while the write waits on
	 * its source, with its mapping made: the next folio must find that
	 * mapping stale, at least once in the run.
	 */
	if (got >= 0 && counting && c->kind->partner == IWT_RACE_WRITEBACK)
		KUNIT_EXPECT_GT_MSG(test, stale, 0U,
				    "iomap mappings revalidated in %u rounds of writeback racing the write",
				    round);

	if (r->gate_file) {
		KUNIT_EXPECT_EQ(test, vm_munmap(ubuf + r->copy - PAGE_SIZE, PAGE_SIZE), 0);
		iwt_sync_and_forget(fs, r->gate_file, IWT_RACE_GATE);
	}
	iwt_sync_and_forget(fs, r->file, IWT_FILE);
	iwt_expect_baseline(fs, "once the file is gone");
	iwt_unmount(fs);
	iwt_check_disk(fs);
	iwt_finish(fs);
}

/* --------------------------------------------------------------------
 * The matcher's own test: outcomes that resemble a known issue but
 * differ in one element must not pass for it.
 */

/* Call traces as the console shows them, for the matcher's test. */
#define IWT_TRACE_JOURNAL_START \
	" jbd2__journal_start+0x7c/0x1e0\n ext4_da_write_end+0x1a4/0x3c0\n generic_perform_write+0x150/0x2a0\n"
#define IWT_MSG_CONVERT_LOSS \
	"EXT4-fs warning (device ram0): ext4_convert_unwritten_extents:5071: " \
	"inode #12: block 8: len 4: ext4_ext_map_blocks returned -12\n" \
	"EXT4-fs (ram0): failed to convert unwritten extents to written extents -- potential data loss!  (inode 12, error -12)"
/* The call trace of a fault injected under the conversion, alone. */
#define IWT_TRACE_CONVERT \
	" ext4_ext_map_blocks+0x2c4/0x1a40\n ext4_map_blocks+0x1b0/0x6c0\n" \
	" ext4_convert_unwritten_extents+0x11c/0x260\n" \
	" ext4_convert_unwritten_io_end_vec+0x74/0x120\n ext4_put_io_end+0x5c/0xb0\n"
#define IWT_MSG_WB_ENOMEM \
	"EXT4-fs (ram0): " IWT_MSG_DA_FAILED " for inode 12 " \
	"at logical offset 8 with max blocks 4 with error 12\n" \
	"EXT4-fs (ram0): This should not happen!! Data will be lost\n"
#define IWT_TRACE_IOMAP_RETRY \
	" __filemap_get_folio+0x94/0x3b0\n iomap_write_begin+0x43c/0x9e0\n iomap_file_buffered_write+0x1b2/0x440\n"
#define IWT_TRACE_BH_RETRY \
	" __filemap_get_folio+0x94/0x3b0\n ext4_write_begin+0x12c/0x330\n generic_perform_write+0xf0/0x2a0\n"
#define IWT_TRACE_FOLIO_ALLOC \
	" __filemap_get_folio+0x94/0x3b0\n ext4_da_write_begin+0x12c/0x330\n generic_perform_write+0xf0/0x2a0\n"

/**
 * struct iwt_sig_case - an outcome and whether a row must take it
 * @name: case name
 * @ki: the row
 * @mode: index into iwt_modes[]
 * @geo: index into iwt_geometries[]
 * @newer: pretend the row's first affected release is after this kernel
 * @o: the outcome
 * @match: whether the row matches it (on a kernel in the row's range)
 */
struct iwt_sig_case {
	const char *name;
	enum iwt_ki ki;
	unsigned int mode;
	unsigned int geo;
	bool newer;
	struct iwt_obs o;
	bool match;
};

#define IWT_EFAULT_OBS { .ret = -EFAULT, .pos = 8192, .size = 8192 }
#define IWT_JSTART_OBS(trace) { .injected = true, .ret = -ENOMEM, \
	.copyable = 1539, .room = 4096, .pos = 8192, .size = 8192 + 1539, \
	.console = trace }
#define IWT_RETRY_OBS(trace) { .injected = true, .ret = -ENOMEM, \
	.copyable = 1539, .room = 4096, .pos = 8192, .size = 8192, \
	.console = trace }
/* 1k blocks: s_maxbytes (2^32 - 1) KiB ends a quarter into a page. */
#define IWT_READ_OBS(returned, then) { .copyable = 5629, \
	.pos = 4398046502912LL, .size = 4398046510080LL, .got = returned, \
	.rest = then, .maxbytes = 4398046510080LL }
#define IWT_STALE_OBS(from, to, poisoned) { .ret = 300, .copyable = 300, \
	.pos = 8192 + 300, .hole_in_block = true, .lo = 8192 + 600, \
	.hi = 12288, .folio = 4096, .diff = { .bad = 100, .first = from, .last = to, \
	.poison = poisoned } }
#define IWT_LOSS_OBS(msg, blocks) { .injected = true, .ret = 4096, \
	.pos = 8192, .diff = { .bad = 4096, .zeros = 4096 }, .states = (blocks), \
	.console = msg }

#define IWT_ENOMEM_OBS(msg, again, zero, blocks) { .injected = true, \
	.ret = 4096, .pos = 8192, .fsync_err = -ENOMEM, .refsync_err = again, \
	.diff = { .bad = 4096, .zeros = zero }, .states = (blocks), \
	.console = msg }

/* Modes: 0 delalloc, 1 nodelalloc, 2 delalloc-iomap; geometries: 0 1k, 2 4k. */
/*
 * A write at 0 of 256 KiB with 80 KiB of room that returned @ret and left
 * i_size at @size, where whole folios would stop at @stop, at a folio of
 * @folio bytes.
 */
#define IWT_WB_OBS(wb, from, to) { .ret = 41475, .copyable = 41475, \
	.pos = 8192, .size = 8192 + 41475, .lo = 8192 + 41475, \
	.hi = 56 * 1024, .concurrent = wb, .unw_lo = from, .unw_hi = to }
#define IWT_FOLIO_OBS(r, at, folio, sz) \
	{ .ret = (r), .copyable = SZ_256K, .size = (sz), .fits = SZ_64K + SZ_16K, \
	  .stop = (at), .stop_folio = (folio) }

static const struct iwt_sig_case iwt_sig_cases[] = {
	{ "efault-size/buffer_head", IWT_KI_EFAULT_SIZE, 0, 2, false,
	  IWT_EFAULT_OBS, true },
	{ "efault-size/on-iomap", IWT_KI_EFAULT_SIZE, 2, 2, false,
	  IWT_EFAULT_OBS, false },
	{ "efault-size/kernel-outside-range", IWT_KI_EFAULT_SIZE, 0, 2, true,
	  IWT_EFAULT_OBS, false },
	{ "efault-size/size-not-pos", IWT_KI_EFAULT_SIZE, 0, 2, false,
	  { .ret = -EFAULT, .pos = 8192, .size = 8193 }, false },
	{ "failed-write/nodelalloc", IWT_KI_FAILED_WRITE_SIZE, 1, 0, false,
	  IWT_RETRY_OBS(IWT_TRACE_BH_RETRY), true },
	{ "failed-write/delalloc", IWT_KI_FAILED_WRITE_SIZE, 0, 0, false,
	  IWT_RETRY_OBS(IWT_TRACE_BH_RETRY), false },
	{ "failed-write/iomap-trace", IWT_KI_FAILED_WRITE_SIZE, 1, 0, false,
	  IWT_RETRY_OBS(IWT_TRACE_IOMAP_RETRY), false },
	{ "iomap-failed-write/iomap", IWT_KI_IOMAP_FAILED_WRITE_SIZE, 2, 0, false,
	  IWT_RETRY_OBS(IWT_TRACE_IOMAP_RETRY), true },
	{ "iomap-failed-write/buffer_head", IWT_KI_IOMAP_FAILED_WRITE_SIZE, 0, 0,
	  false, IWT_RETRY_OBS(IWT_TRACE_IOMAP_RETRY), false },
	{ "iomap-failed-write/in-iomap-begin", IWT_KI_IOMAP_FAILED_WRITE_SIZE, 2, 0,
	  false, IWT_RETRY_OBS(IWT_TRACE_FOLIO_ALLOC), false },
	{ "journal-start/site", IWT_KI_JOURNAL_START, 0, 2, false,
	  IWT_JSTART_OBS(IWT_TRACE_JOURNAL_START), true },
	{ "journal-start/other-site", IWT_KI_JOURNAL_START, 0, 2, false,
	  IWT_JSTART_OBS(IWT_TRACE_FOLIO_ALLOC), false },
	{ "journal-start/no-trace", IWT_KI_JOURNAL_START, 0, 2, false,
	  IWT_JSTART_OBS(""), false },
	{ "convert-loss/message", IWT_KI_CONVERT_LOSS, 0, 2, false,
	  IWT_LOSS_OBS(IWT_MSG_CONVERT_LOSS, BIT(IWT_UNWRITTEN)), true },
	{ "convert-loss/no-message", IWT_KI_CONVERT_LOSS, 0, 2, false,
	  IWT_LOSS_OBS("", BIT(IWT_UNWRITTEN)), false },
	{ "convert-loss/trace-only", IWT_KI_CONVERT_LOSS, 0, 2, false,
	  IWT_LOSS_OBS(IWT_TRACE_CONVERT, BIT(IWT_UNWRITTEN)), false },
	{ "convert-loss/a-hole-inside", IWT_KI_CONVERT_LOSS, 0, 2, false,
	  IWT_LOSS_OBS(IWT_MSG_CONVERT_LOSS, BIT(IWT_UNWRITTEN) | BIT(IWT_HOLE)), false },
	{ "stale-tail/poison", IWT_KI_STALE_TAIL, 2, 0, false,
	  IWT_STALE_OBS(8892, 8991, 100), true },
	{ "stale-tail/not-poison", IWT_KI_STALE_TAIL, 2, 0, false,
	  IWT_STALE_OBS(8892, 8991, 50), false },
	{ "stale-tail/before-copy-end", IWT_KI_STALE_TAIL, 2, 0, false,
	  IWT_STALE_OBS(8692, 8791, 100), false },
	{ "stale-tail/buffer_head", IWT_KI_STALE_TAIL, 0, 0, false,
	  IWT_STALE_OBS(8892, 8991, 100), false },
	{ "stale-tail/4k-blocks", IWT_KI_STALE_TAIL, 2, 2, false,
	  IWT_STALE_OBS(8892, 8991, 100), false },
	{ "stale-tail/4k-blocks-large-folio", IWT_KI_STALE_TAIL, 2, 2, false,
	  { .ret = 300, .copyable = 300, .pos = 8192 + 300, .hole_in_block = true,
	    .lo = 8192 + 600, .hi = 12288, .folio = SZ_16K,
	    .diff = { .bad = 100, .first = 8892, .last = 8991, .poison = 100 } },
	  true },
	{ "short-read/at-maxbytes", IWT_KI_SHORT_READ, 2, 0, false,
	  IWT_READ_OBS(4096, 1533), true },
	{ "short-read/rest-short", IWT_KI_SHORT_READ, 2, 0, false,
	  IWT_READ_OBS(4096, 1000), false },
	{ "short-read/buffer_head", IWT_KI_SHORT_READ, 0, 0, false,
	  IWT_READ_OBS(4096, 1533), false },
	{ "short-read/elsewhere", IWT_KI_SHORT_READ, 2, 0, false,
	  IWT_READ_OBS(2048, 3581), false },
	{ "enospc-whole/too-few-free", IWT_KI_ENOSPC_WHOLE, 2, 2, false,
	  { .ret = -ENOSPC, .free = 16, .asked = 64 }, true },
	{ "enospc-whole/enough-free", IWT_KI_ENOSPC_WHOLE, 2, 2, false,
	  { .ret = -ENOSPC, .free = 64, .asked = 64 }, false },
	{ "enospc-folio/first-folio", IWT_KI_ENOSPC_FOLIO, 0, 2, false,
	  IWT_FOLIO_OBS(-ENOSPC, 0, SZ_256K, 0), true },
	{ "enospc-folio/second-folio", IWT_KI_ENOSPC_FOLIO, 1, 2, false,
	  IWT_FOLIO_OBS(SZ_64K, SZ_64K, SZ_64K, SZ_64K), true },
	{ "enospc-folio/on-iomap", IWT_KI_ENOSPC_FOLIO, 2, 2, false,
	  IWT_FOLIO_OBS(-ENOSPC, 0, SZ_256K, 0), false },
	{ "enospc-folio/kernel-outside-range", IWT_KI_ENOSPC_FOLIO, 0, 2, true,
	  IWT_FOLIO_OBS(-ENOSPC, 0, SZ_256K, 0), false },
	{ "enospc-folio/order-0", IWT_KI_ENOSPC_FOLIO, 0, 2, false,
	  IWT_FOLIO_OBS(SZ_64K, SZ_64K, PAGE_SIZE, SZ_64K), false },
	{ "enospc-folio/past-the-folio", IWT_KI_ENOSPC_FOLIO, 0, 2, false,
	  IWT_FOLIO_OBS(SZ_64K + SZ_4K, SZ_64K, SZ_64K, SZ_64K + SZ_4K), false },
	{ "enospc-folio/size-past-ret", IWT_KI_ENOSPC_FOLIO, 0, 2, false,
	  IWT_FOLIO_OBS(SZ_64K, SZ_64K, SZ_64K, SZ_64K + SZ_4K), false },
	{ "wb-past-eof/raced", IWT_KI_WB_PAST_EOF, 2, 0, false,
	  IWT_WB_OBS(1, 49 * 1024, 56 * 1024), true },
	{ "wb-past-eof/no-writeback", IWT_KI_WB_PAST_EOF, 2, 0, false,
	  IWT_WB_OBS(0, 49 * 1024, 56 * 1024), false },
	{ "wb-enomem-loss/hole-then-unwritten", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4096, BIT(IWT_HOLE) | BIT(IWT_UNWRITTEN)), true },
	{ "wb-enomem-loss/unwritten", IWT_KI_WB_ENOMEM_LOSS, 2, 0, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4096, BIT(IWT_UNWRITTEN)), true },
	{ "wb-enomem-loss/buffer_head", IWT_KI_WB_ENOMEM_LOSS, 0, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4096, BIT(IWT_HOLE)), false },
	{ "wb-enomem-loss/no-message", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS("", 0, 4096, BIT(IWT_HOLE)), false },
	{ "wb-enomem-loss/next-fsync-failed", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, -EIO, 4096, BIT(IWT_HOLE)), false },
	{ "wb-enomem-loss/not-zeros", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4000, BIT(IWT_HOLE)), false },
	{ "wb-enomem-loss/a-written-block", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4096, BIT(IWT_HOLE) | BIT(IWT_WRITTEN)), false },
	{ "wb-enomem-loss/a-delayed-block", IWT_KI_WB_ENOMEM_LOSS, 2, 2, false,
	  IWT_ENOMEM_OBS(IWT_MSG_WB_ENOMEM, 0, 4096, BIT(IWT_HOLE) | BIT(IWT_DELAYED)), false },
	{ "wb-past-eof/buffer_head", IWT_KI_WB_PAST_EOF, 0, 0, false,
	  IWT_WB_OBS(1, 49 * 1024, 56 * 1024), false },
	{ "wb-past-eof/nodelalloc", IWT_KI_WB_PAST_EOF, 3, 0, false,
	  IWT_WB_OBS(1, 49 * 1024, 56 * 1024), false },
	{ "wb-past-eof/past-the-write", IWT_KI_WB_PAST_EOF, 2, 0, false,
	  IWT_WB_OBS(1, 49 * 1024, 57 * 1024), false },
	{ "wb-past-eof/inside-size", IWT_KI_WB_PAST_EOF, 2, 0, false,
	  IWT_WB_OBS(1, 48 * 1024, 56 * 1024), false },
};

static void iwt_sig_case_desc(const struct iwt_sig_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iwt_sig, iwt_sig_cases, iwt_sig_case_desc);

/*
 * Each outcome against its row: a look-alike that differs in the path, the
 * kernel, a value, the injection site or the kernel's message is no known
 * issue, so the scenario that saw it fails.
 */
static void iwt_known_signatures(struct kunit *test)
{
	const struct iwt_sig_case *c = test->param_value;
	struct iwt_known k = iwt_known[c->ki];
	const char *why;
	bool want;

	if (c->newer)
		k.since = iwt_kernel_version() + 1;
	want = c->match && iwt_kernel_in_range(&k);
	why = iwt_known_mismatch(&k, &iwt_modes[c->mode], &iwt_geometries[c->geo],
				 &c->o);
	KUNIT_EXPECT_EQ_MSG(test, !why, want,
			    "known-issue:%s on %s/%s: expected %s, matcher said %s",
			    k.id, iwt_modes[c->mode].name, iwt_geometries[c->geo].name,
			    want ? "a match" : "no match", why ?: "match");
}

static int iwt_suite_init(struct kunit_suite *suite)
{
	iwt_init_envs();
	iwt_init_cases();
	iwt_init_races();
	iwt_init_lf_cases();
	iwt_rd.checked = false;
	iwt_have_iomap = iwt_probe_iomap();
#ifdef CONFIG_TRACEPOINTS
	return register_trace_console(iwt_probe_console, NULL);
#else
	return 0;
#endif
}

static void iwt_suite_exit(struct kunit_suite *suite)
{
#ifdef CONFIG_TRACEPOINTS
	unregister_trace_console(iwt_probe_console, NULL);
	tracepoint_synchronize_unregister();
#endif
}

/**
 * iwt_wanted() - whether the cases= module parameter selects a case
 * @param: the parameter a generator returned, NULL after the last
 * @desc: its name
 *
 * Return: true to run it (or to stop at the end), false to skip it.
 */
static bool iwt_wanted(const void *param, const char *desc)
{
	return !param || !cases || !cases[0] || glob_match(cases, desc);
}

/*
 * The next parameter of @gen that cases= selects, NULL after the last.
 * The other arguments are the generator's own (IWT_GEN_ARGS, a macro
 * kernel-doc cannot describe).
 */
static const void *iwt_next_wanted(const void *(*gen)(IWT_GEN_ARGS),
				   IWT_GEN_ARGS)
{
	do {
		prev = IWT_GEN_CALL(gen);
	} while (!iwt_wanted(prev, desc));
	return prev;
}

/* The generators as the suite runs them (make kunit CASE=...). */
static const void *iwt_sig_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_sig_gen_params);
}

static const void *iwt_mkfs_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_mkfs_gen_params);
}

static const void *iwt_small_block_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_small_block_gen);
}

static const void *iwt_env_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_env_gen);
}

static const void *iwt_case_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_case_gen);
}

static const void *iwt_sweep_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_sweep_gen);
}

static const void *iwt_lf_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_lf_gen);
}

static const void *iwt_race_selected(IWT_GEN_ARGS)
{
	return IWT_GEN_FWD(iwt_next_wanted, iwt_race_gen);
}

static struct kunit_case iwt_cases[] = {
	KUNIT_CASE_PARAM(iwt_known_signatures, iwt_sig_selected),
	KUNIT_CASE_PARAM(iwt_mkfs_image, iwt_mkfs_selected),
	KUNIT_CASE_PARAM(iwt_poison_reaches_write, iwt_small_block_selected),
	KUNIT_CASE_PARAM(iwt_fixture_roundtrip, iwt_env_selected),
	KUNIT_CASE_PARAM(iwt_short_write, iwt_case_selected),
	KUNIT_CASE_PARAM(iwt_large_folio, iwt_lf_selected),
	KUNIT_CASE_PARAM(iwt_enospc, iwt_env_selected),
	/* Minutes per tree: --filter 'speed>slow' leaves the sweeps out. */
	KUNIT_CASE_PARAM_ATTR(iwt_fail_nth, iwt_sweep_selected,
			      { .speed = KUNIT_SPEED_SLOW }),
	/* race_ms each (2 s by default). */
	KUNIT_CASE_PARAM_ATTR(iwt_race, iwt_race_selected,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite iwt_suite = {
	.name = "ext4_iomap_write",
	.suite_init = iwt_suite_init,
	.suite_exit = iwt_suite_exit,
	.test_cases = iwt_cases,
};

kunit_test_suite(iwt_suite);

MODULE_DESCRIPTION("KUnit tests of ext4 short buffered writes");
MODULE_LICENSE("GPL");
