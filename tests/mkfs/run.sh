#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Check the images that fs/ext4/iomap_write_test_mkfs.c made in the kernel:
# the KUnit case iwt_mkfs_image, run with image_dir=DIR (UML, hostfs),
# leaves DIR/<case>.img and DIR/<case>.layout for every geometry it
# formats. Each image must pass e2fsck -fn and look as asked in dumpe2fs
# and debugfs, and stay clean after libext2fs allocates from it.
#
# usage: run.sh DIR
# Prints "ok N - ..." / "not ok N - ..." per check, then "P passed, F failed".

set -u

[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
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

# layout NAME: a value of the image's layout, as the kernel wrote it
layout() {
	sed -n "s/^$1 //p" "$layout"
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

# good LAYOUT: the checks of one image and its layout file
good() {
	layout=$1
	img=${layout%.layout}.img
	name=$(basename "${layout%.layout}")
	bs=$(layout block_size) ratio=$(layout cluster_ratio) jnl=$(layout journal)
	if [ ! -f "$img" ] || [ -z "$bs" ] || [ -z "$ratio" ] || [ -z "$jnl" ]; then
		not_ok "$name" "no image, or a layout without block_size, cluster_ratio, journal"
		return
	fi
	blocks=$(layout blocks)
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
	want=$([ "$(layout metadata_csum)" = 1 ] && echo yes || echo no)
	check "$name: metadata_csum feature" "$want" "$(has_feature metadata_csum)"
	for f in 64bit flex_bg uninit_bg resize_inode; do
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

head -c 3000 /dev/urandom >"$tmp/data"
n_img=0
for layout in "$dir"/*.layout; do
	[ -f "$layout" ] || continue
	n_img=$((n_img + 1))
	good "$layout"
done
check "images found in $dir" yes "$([ "$n_img" -gt 0 ] && echo yes || echo no)"
echo "# $n_img images"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
