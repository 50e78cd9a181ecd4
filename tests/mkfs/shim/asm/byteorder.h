/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <asm/byteorder.h>, built on libc's <endian.h>. */
#ifndef _IWT_SHIM_ASM_BYTEORDER_H
#define _IWT_SHIM_ASM_BYTEORDER_H

#include <endian.h>

#define cpu_to_le16(x)	htole16(x)
#define cpu_to_le32(x)	htole32(x)
#define cpu_to_be32(x)	htobe32(x)

#endif /* _IWT_SHIM_ASM_BYTEORDER_H */
