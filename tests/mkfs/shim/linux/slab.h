/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/slab.h>: allocations map to libc. */
#ifndef _IWT_SHIM_LINUX_SLAB_H
#define _IWT_SHIM_LINUX_SLAB_H

#include <stdlib.h>

#define GFP_KERNEL	0

#define kzalloc_objs(obj, count, gfp)	\
	((void)(gfp), (__typeof__(obj) *)calloc(count, sizeof(obj)))
#define kfree(p)		free(p)
#define kvmalloc(size, gfp)	((void)(gfp), malloc(size))
#define kvfree(p)		free(p)

#endif /* _IWT_SHIM_LINUX_SLAB_H */
