#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build the host driver for fs/ext4/iomap_write_test_mkfs.c and check that
# every geometry it formats passes e2fsck and looks as asked in dumpe2fs
# and debugfs; check that bad parameters are refused.
#
# Takes no arguments; CC overrides the host compiler.
# Prints "ok N - ..." / "not ok N - ..." per check, then "P passed, F failed".

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iwt-mkfs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
export PATH="$PATH:/sbin:/usr/sbin"

n=0
passed=0
failed=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1: $2"
}

# check DESC EXPECTED SEEN
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected '$2', saw '$3'"
	fi
}

# check_has DESC FILE PATTERN: a line of FILE matches the basic regex
check_has() {
	if grep -q -e "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1" "expected a line matching '$3', saw none"
	fi
}

# layout NAME: a value printed by mkfs_image
layout() {
	sed -n "s/^$1 //p" "$tmp/layout"
}

# dump NAME: a value from "dumpe2fs -h"
dump() {
	sed -n "s/^$1:[[:space:]]*//p" "$tmp/dump"
}

# has_feature NAME: "yes" if dumpe2fs lists feature NAME
has_feature() {
	case " $(dump 'Filesystem features') " in
	*" $1 "*) echo yes ;;
	*) echo no ;;
	esac
}

is_power_of() {
	p=$1
	while [ "$p" -gt 1 ] && [ $((p % $2)) -eq 0 ]; do
		p=$((p / $2))
	done
	[ "$p" -eq 1 ]
}

# Groups holding a superblock copy under sparse_super, out of $1 groups.
super_copies() {
	g=0
	copies=0
	while [ "$g" -lt "$1" ]; do
		if [ "$g" -le 1 ] || is_power_of "$g" 3 || is_power_of "$g" 5 ||
		   is_power_of "$g" 7; then
			copies=$((copies + 1))
		fi
		g=$((g + 1))
	done
	echo "$copies"
}

# fsck_clean DESC IMAGE: "e2fsck -fn" exits 0 and prints only its passes
fsck_clean() {
	e2fsck -fn "$2" >"$tmp/fsck" 2>&1
	check "$1: e2fsck -fn exit status" 0 $?
	grep -v -e '^e2fsck [0-9]' -e '^Pass [1-5][A-Z]*: ' \
		-e "^$2: [0-9]*/[0-9]* files" "$tmp/fsck" >"$tmp/problems"
	check "$1: e2fsck reports no problem" "" \
		"$(head -n 3 "$tmp/problems" | tr '\n' '|')"
}

# good BS RATIO JOURNAL SIZE [JOURNAL_BLOCKS [EXPECTED_BLOCKS]]
good() {
	bs=$1 ratio=$2 jnl=$3 size=$4 jblocks=${5:-0}
	want_blocks=${6:-$((size / bs / ratio * ratio))}
	name="bs=$bs ratio=$ratio journal=$jnl size=$size"
	[ "$jblocks" -ne 0 ] && name="$name jblocks=$jblocks"
	img="$tmp/img"

	"$tmp/mkfs_image" "$img" "$bs" "$ratio" "$jnl" "$size" "$jblocks" \
		>"$tmp/layout" 2>"$tmp/err"
	rc=$?
	check "$name: mkfs_image exit status" 0 "$rc"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/# /' "$tmp/err" "$tmp/layout"
		return
	fi
	blocks=$(layout blocks)
	check "$name: layout block count" "$want_blocks" "$blocks"
	check "$name: image size" "$((blocks * bs))" "$(wc -c <"$img" | tr -d ' ')"

	fsck_clean "$name" "$img"
	used_inodes=$(($(layout inodes) - $(layout free_inodes)))
	used_blocks=$((blocks - $(layout free_blocks)))
	check "$name: e2fsck usage summary" \
		"$used_inodes/$(layout inodes) files $used_blocks/$blocks blocks" \
		"$(sed -n "s|^$img: \([0-9/]* files\) ([^)]*), \([0-9/]* blocks\)|\1 \2|p" \
			"$tmp/fsck")"

	dumpe2fs -h "$img" >"$tmp/dump" 2>/dev/null
	check "$name: dumpe2fs state" clean "$(dump 'Filesystem state')"
	check "$name: dumpe2fs block size" "$bs" "$(dump 'Block size')"
	if [ "$ratio" -gt 1 ]; then
		check "$name: dumpe2fs cluster size" "$((bs * ratio))" \
			"$(dump 'Cluster size')"
	else
		check "$name: dumpe2fs fragment size" "$bs" \
			"$(dump 'Fragment size')"
	fi
	check "$name: dumpe2fs block count" "$blocks" "$(dump 'Block count')"
	check "$name: dumpe2fs inode count" "$(layout inodes)" \
		"$(dump 'Inode count')"
	check "$name: dumpe2fs free blocks" "$(layout free_blocks)" \
		"$(dump 'Free blocks')"
	check "$name: dumpe2fs free inodes" "$(layout free_inodes)" \
		"$(dump 'Free inodes')"
	check "$name: dumpe2fs first block" "$(layout first_data_block)" \
		"$(dump 'First block')"
	want=$([ "$ratio" -gt 1 ] && echo yes || echo no)
	check "$name: bigalloc feature" "$want" "$(has_feature bigalloc)"
	want=$([ "$jnl" -eq 1 ] && echo yes || echo no)
	check "$name: has_journal feature" "$want" "$(has_feature has_journal)"
	for f in filetype extent sparse_super large_file huge_file dir_nlink \
		 extra_isize; do
		check "$name: $f feature" yes "$(has_feature "$f")"
	done
	for f in 64bit flex_bg metadata_csum uninit_bg resize_inode; do
		check "$name: no $f feature" no "$(has_feature "$f")"
	done

	dumpe2fs "$img" >"$tmp/full" 2>/dev/null
	groups=$(layout groups)
	check "$name: group count" "$groups" "$(grep -c '^Group [0-9]*:' "$tmp/full")"
	check "$name: superblock copies" "$(super_copies "$groups")" \
		"$(grep -c 'superblock at' "$tmp/full")"

	debugfs -R "ls -p /" "$img" >"$tmp/ls" 2>/dev/null
	check_has "$name: root lists lost+found" "$tmp/ls" \
		'^/11/040700/0/0/lost+found/'
	debugfs -R "stat <2>" "$img" >"$tmp/stat" 2>/dev/null
	check_has "$name: root is a directory with 3 links" "$tmp/stat" \
		'Type: directory.*Mode:  0755'
	check_has "$name: root has 3 links" "$tmp/stat" '^Links: 3 '

	if [ "$jnl" -eq 1 ]; then
		check "$name: journal inode" 8 "$(dump 'Journal inode')"
		check "$name: journal blocks" "$(layout journal_blocks)" \
			"$(dump 'Total journal blocks')"
		check "$name: journal sequence" 0x00000001 \
			"$(dump 'Journal sequence')"
		check "$name: journal clean" 0 "$(dump 'Journal start')"
		debugfs -R "logdump" "$img" >"$tmp/logdump" 2>/dev/null
		check_has "$name: logdump reads the journal" "$tmp/logdump" \
			'^Journal starts at block 0, transaction 1'
	fi

	# libext2fs allocates from the bitmaps; the result must stay clean.
	printf 'mkdir d\nwrite %s d/f\n' "$tmp/data" >"$tmp/cmds"
	debugfs -w -f "$tmp/cmds" "$img" >/dev/null 2>&1
	fsck_clean "$name, after debugfs adds a directory and a file" "$img"
	if [ "$(layout free_clusters)" -ge 2 ]; then
		debugfs -R "ls -p /d" "$img" >"$tmp/ls" 2>/dev/null
		check_has "$name: debugfs wrote d/f" "$tmp/ls" \
			'^/13/100[0-7]*/0/0/f/3000/'
	fi
}

# bad DESC BS RATIO JOURNAL SIZE [JOURNAL_BLOCKS]: expect -EINVAL
bad() {
	"$tmp/mkfs_image" "$tmp/bad" "$2" "$3" "$4" "$5" "${6:-0}" \
		>"$tmp/layout" 2>"$tmp/err"
	rc=$?
	check "refuses $1" "3 error -22" "$rc $(cat "$tmp/layout")"
}

${CC:-cc} -Wall -Wextra -Werror -O2 -I"$here/shim" -I"$top/fs/ext4" \
	-o "$tmp/mkfs_image" "$here/mkfs_image.c" \
	"$top/fs/ext4/iomap_write_test_mkfs.c" >"$tmp/cc.log" 2>&1
rc=$?
check "host build with -Wall -Wextra -Werror" 0 "$rc"
if [ "$rc" -ne 0 ]; then
	sed 's/^/# /' "$tmp/cc.log"
	echo "$passed passed, $failed failed"
	exit 1
fi

MiB=1048576
head -c 3000 "$tmp/mkfs_image" >"$tmp/data"

# Every block size, cluster ratio and journal choice, at the KUnit test's
# 8 MiB and at 16 MiB (two groups with 1k blocks).
for mib in 8 16; do
	for bs in 1024 2048 4096; do
		for ratio in 1 4 16; do
			for jnl in 0 1; do
				good "$bs" "$ratio" "$jnl" $((mib * MiB))
			done
		done
	done
done

# Tiny filesystems, one partial group each.
good 1024 1 0 $((256 * 1024))
good 1024 1 0 16384
good 2048 4 0 $((512 * 1024))
good 4096 16 0 $((256 * 1024))
# Several groups: 4 full-ish, a partial last one, copies in 3, 5, 7 and 9.
good 1024 1 0 $((32 * MiB))
good 1024 1 1 $((20 * MiB))
good 2048 1 1 $((40 * MiB))
good 1024 4 1 $((80 * MiB))
good 1024 1 0 $((80 * MiB))
# A 20-block last group cannot hold its metadata and is dropped.
good 1024 1 0 $((8 * MiB + 20 * 1024)) 0 8193
# Size not a whole number of blocks or clusters.
good 4096 16 1 $((16 * MiB + 12345))
# Larger journals: 4 extents in one inode, in a later group.
good 1024 16 1 $((128 * MiB)) 120000
good 1024 1 1 $((32 * MiB)) 8000

bad "block size 512" 512 1 0 $((16 * MiB))
bad "block size 8192" 8192 1 0 $((16 * MiB))
bad "cluster ratio 8" 4096 8 0 $((16 * MiB))
bad "cluster ratio 2" 1024 2 0 $((16 * MiB))
bad "cluster ratio 0" 1024 0 0 $((16 * MiB))
bad "an 8 KiB filesystem" 1024 1 0 8192
bad "a filesystem too small for root and lost+found" 4096 16 0 $((64 * 1024))
bad "a journal on a 1 MiB filesystem" 1024 1 1 $((1 * MiB))
bad "a journal on a 4 MiB 4k filesystem" 4096 1 1 $((4 * MiB))
bad "a 512-block journal" 4096 1 1 $((16 * MiB)) 512
bad "a journal longer than 4 extents" 4096 1 1 $((1024 * MiB)) 131073
bad "a journal longer than any group" 1024 1 1 $((32 * MiB)) 8192

# Same parameters, same bytes.
"$tmp/mkfs_image" "$tmp/a" 4096 4 1 $((16 * MiB)) >/dev/null 2>&1
"$tmp/mkfs_image" "$tmp/b" 4096 4 1 $((16 * MiB)) >/dev/null 2>&1
if cmp -s "$tmp/a" "$tmp/b"; then
	ok "output is deterministic"
else
	not_ok "output is deterministic" "two runs differ"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
