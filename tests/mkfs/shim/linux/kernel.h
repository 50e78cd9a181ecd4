/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/kernel.h>: the few helpers the formatter uses. */
#ifndef _IWT_SHIM_LINUX_KERNEL_H
#define _IWT_SHIM_LINUX_KERNEL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define U16_MAX		UINT16_MAX
#define U32_MAX		UINT32_MAX

#define DIV_ROUND_UP(n, d)	({ __typeof__(d) _d = (d); ((n) + _d - 1) / _d; })
#define round_up(x, y)		((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define min(a, b)		({ __typeof__(a) _a = (a), _b = (b); _a < _b ? _a : _b; })
#define max(a, b)		({ __typeof__(a) _a = (a), _b = (b); _a > _b ? _a : _b; })
#define min_t(type, a, b)	min((type)(a), (type)(b))
#define max_t(type, a, b)	max((type)(a), (type)(b))
#define ilog2(n)		(31 - __builtin_clz(n))

#endif /* _IWT_SHIM_LINUX_KERNEL_H */
