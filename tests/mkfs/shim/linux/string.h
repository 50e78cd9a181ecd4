/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/string.h>. */
#ifndef _IWT_SHIM_LINUX_STRING_H
#define _IWT_SHIM_LINUX_STRING_H

#include <string.h>

#endif /* _IWT_SHIM_LINUX_STRING_H */
