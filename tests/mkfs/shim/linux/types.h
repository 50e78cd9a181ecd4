/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/types.h>: kernel integer and on-disk types. */
#ifndef _IWT_SHIM_LINUX_TYPES_H
#define _IWT_SHIM_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint32_t __be32;

#define __packed __attribute__((__packed__))

#endif /* _IWT_SHIM_LINUX_TYPES_H */
