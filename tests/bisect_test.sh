#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host test of scripts/bisect-run on a synthetic history over a real tree:
#   base (good) - A harmless - B bug: ext4 writes return one byte short -
#   C does not build - D builds again, bug kept (bad)
# `git bisect run` must name B, C must be skipped (125), and the tree must
# be left without the overlay.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
iwt=$repo/scripts/ext4-iwt
cache=${EXT4_IWT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ext4-iomap-write-test}
work=$cache/bisect-test/linux
filter='ext4_iomap_write.iwt_fixture_roundtrip'
pass=0
fail=0
n=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2${3:+: $3}"
	fi
}

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@localhost
export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@localhost

commit() {
	git -C "$work" commit -q -a -m "$1"
	git -C "$work" rev-parse HEAD
}

make_history() {
	src=$("$iwt" tree)
	rm -rf "$(dirname "$work")"
	mkdir -p "$(dirname "$work")"
	cp -a "$src" "$work"
	"$iwt" uninstall --kdir "$work" >/dev/null 2>&1
	# Debian's .gitignore block hides every top-level file from git.
	sed -i '/^# Debian packaging/,$d' "$work/.gitignore"
	git -C "$work" init -q
	git -C "$work" add -A
	git -C "$work" commit -q -m base
	git -C "$work" tag good
	f=$work/fs/ext4/file.c
	grep -q 'ret = generic_perform_write(iocb, from);' "$f"
	sed -i '1a /* bisect test: a harmless change */' "$f"
	commit "A: harmless" >/dev/null
	sed -i 's/^\(\t*\)ret = generic_perform_write(iocb, from);/&\n\1if (ret > 1)\n\1\tret--;/' "$f"
	commit "B: buffered writes report one byte less" >"$work/../bug"
	echo '#error bisect test: this commit does not build' >>"$f"
	commit "C: does not build" >"$work/../nobuild"
	sed -i '$d' "$f"
	commit "D: builds again" >/dev/null
	git -C "$work" tag bad
}

if [ ! -f "$work/../bug" ] || ! git -C "$work" rev-parse -q --verify bad >/dev/null; then
	make_history
fi
git -C "$work" bisect reset -q >/dev/null 2>&1 || true
git -C "$work" checkout -q bad
bug=$(cat "$work/../bug")
nobuild=$(cat "$work/../nobuild")

git -C "$work" checkout -q "$nobuild"
rc=0
(cd "$work" && "$repo/scripts/bisect-run" "$filter") >/dev/null 2>&1 || rc=$?
ok $((rc != 125)) "a commit that does not build is skipped (125)" "exit $rc"

git -C "$work" checkout -q bad
log=$(dirname "$work")/bisect.log
(cd "$work" && git bisect start bad good &&
	git bisect run "$repo/scripts/bisect-run" "$filter") >"$log" 2>&1 || true
first=$(sed -n 's/^\([0-9a-f]\{40\}\) is the first bad commit$/\1/p' "$log")
ok $(if [ "$first" = "$bug" ]; then echo 0; else echo 1; fi) "git bisect run names the commit with the bug" \
	"expected $bug, saw ${first:-none} (log: $log)"
git -C "$work" bisect reset -q >/dev/null 2>&1 || true
status=$(git -C "$work" status --porcelain)
ok $(if [ -z "$status" ]; then echo 0; else echo 1; fi) "the tree is left clean" "$status"
judged=1
if grep -q 'good:' "$log" && grep -q 'bad:' "$log"; then
	judged=0
fi
ok $judged "steps were judged good and bad by the suite's results"

# A harness error mid-bisect (here: the cache path is a file, so no build
# directory can be made) must abort the bisection, never blame a commit.
# A wrapper skips the first step so that the error comes in the second.
git -C "$work" checkout -q bad
top=$(dirname "$work")
wrap=$top/bisect-wrap.sh
calls=$top/bisect-wrap.calls
rm -f "$calls"
: >"$top/not-a-directory"
{
	echo '#!/bin/sh'
	echo "echo x >>'$calls'"
	echo "[ \"\$(wc -l <'$calls')\" -gt 1 ] || exit 125"
	echo "EXT4_IWT_CACHE='$top/not-a-directory' exec '$repo/scripts/bisect-run' '$filter'"
} >"$wrap"
chmod +x "$wrap"
log2=$top/bisect-abort.log
rc=0
(cd "$work" && git bisect start bad good &&
	git bisect run "$wrap") >"$log2" 2>&1 || rc=$?
steps=$(wc -l <"$calls")
aborted=1
if [ "$rc" != 0 ] && [ "$steps" = 2 ] &&
   grep -q 'aborting the bisection' "$log2" &&
   ! grep -q 'is the first bad commit' "$log2"; then
	aborted=0
fi
ok $aborted "a harness error in the second step aborts git bisect run (exit 255); no commit is named" \
	"git bisect run exit $rc after $steps step(s), log: $log2"
git -C "$work" bisect reset -q >/dev/null 2>&1 || true
status=$(git -C "$work" status --porcelain)
ok $(if [ -z "$status" ]; then echo 0; else echo 1; fi) "the aborted step took its overlay back" "$status"
ok $(if [ -n "$(ls "$cache"/bisect-logs/*-build.log 2>/dev/null)" ]; then echo 0; else echo 1; fi) \
	"each step's build log is kept (\$cache/bisect-logs/)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
