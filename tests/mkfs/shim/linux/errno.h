/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host stand-in for <linux/errno.h>.  libc's <errno.h> itself includes
 * <linux/errno.h>, so hand over to the system header of that name.
 */
#include_next <linux/errno.h>
