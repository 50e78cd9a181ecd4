#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Host test of the overlay: install/uninstall round trips on a copy of a
# real kernel tree's files (git and plain), idempotence, and refusals that
# leave the tree untouched.

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IWT = os.path.join(REPO, 'scripts', 'ext4-iwt')
# The files of a tree that the overlay reads or edits, plus neighbours.
TREE_FILES = ['Makefile', 'Kconfig', '.gitignore', 'fs/ext4/Kconfig',
	      'fs/ext4/Makefile', 'fs/ext4/inode.c', 'fs/ext4/ext4.h',
	      'fs/ext4/page-io.c', 'fs/iomap/buffered-io.c',
	      'tools/testing/kunit/kunit.py',
	      'tools/testing/selftests/Makefile',
	      'tools/testing/selftests/kselftest_harness.h', 'MAINTAINERS',
	      'fs/ext4/.kunitconfig']

results = []


def check(ok, what, detail=''):
	results.append(ok)
	n = len(results)
	print(f'{"ok" if ok else "not ok"} {n} - {what}' +
	      ('' if ok or not detail else f': {detail}'), flush=True)


def iwt(*args, kdir, env=None):
	return subprocess.run([IWT] + list(args) + ['--kdir', kdir],
			      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
			      text=True, env=dict(os.environ, **(env or {})))


def snapshot(top):
	"""Every file's bytes, mode and mtime, and every directory."""
	snap = {}
	for d, dirs, files in os.walk(top):
		if '.git' in dirs:
			dirs.remove('.git')
		snap[os.path.relpath(d, top) + '/'] = None
		for f in files:
			p = os.path.join(d, f)
			st = os.lstat(p)
			snap[os.path.relpath(p, top)] = (
				hashlib.sha256(open(p, 'rb').read()).hexdigest(),
				st.st_mode, st.st_mtime_ns)
	return snap


def not_restored(before, after):
	"""Paths whose bytes or mode differ, or that came or went (mtimes
	may differ: a restored file is a new file)."""
	return [k for k in diff(before, after)
		if after.get(k) is None or before.get(k) is None or
		before[k][:2] != after[k][:2]]


def diff(a, b):
	keys = sorted(set(a) | set(b))
	return [k for k in keys if a.get(k, 'absent') != b.get(k, 'absent')]


def git(tree, *args):
	return subprocess.run(['git', '-C', tree] + list(args), check=True,
			      stdout=subprocess.PIPE, text=True,
			      env=dict(os.environ, GIT_AUTHOR_NAME='t',
				       GIT_AUTHOR_EMAIL='t@localhost',
				       GIT_COMMITTER_NAME='t',
				       GIT_COMMITTER_EMAIL='t@localhost')).stdout


def copy_tree(src, dst):
	"""The tree's files, without any overlay laid on the tree itself."""
	for rel in TREE_FILES + ['.ext4-iwt-overlay']:
		if os.path.exists(os.path.join(src, rel)):
			os.makedirs(os.path.dirname(os.path.join(dst, rel)),
				    exist_ok=True)
			shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))
	# Kernel patches laid with the overlay (FIXES=1) come off with it.
	pdir = os.path.join(src, '.ext4-iwt-overlay.patches')
	if os.path.isdir(pdir):
		shutil.copytree(pdir, os.path.join(dst, os.path.basename(pdir)))
	r = iwt('uninstall', kdir=dst)
	if r.returncode:
		raise SystemExit(f'cannot strip the overlay from the copy: {r.stdout}')


def make_git(tree):
	gi = os.path.join(tree, '.gitignore')
	text = open(gi).read()
	cut = text.find('# Debian packaging')
	if cut >= 0:	# Debian's block ignores every top-level file
		open(gi, 'w').write(text[:cut])
	git(tree, 'init', '-q')
	git(tree, 'add', '-A')
	git(tree, 'commit', '-q', '-m', 'base')
	listed = git(tree, 'ls-files').split()
	check('fs/ext4/Kconfig' in listed and 'Makefile' in listed,
	      'the git copy tracks the top-level and ext4 files',
	      f'{len(listed)} files tracked')


def round_trip(tree, kind):
	before = snapshot(tree)
	r = iwt('install', kdir=tree)
	check(r.returncode == 0, f'{kind}: install succeeds', r.stdout.strip())
	once = snapshot(tree)
	laid = [k for k in diff(before, once)]
	want = ['fs/ext4/iomap_write_test.c', 'fs/ext4/Kconfig.test',
		'fs/ext4/Kconfig', 'fs/ext4/Makefile']
	check(all(w in laid for w in want), f'{kind}: install lays the suite '
	      'and hooks it into Kconfig and Makefile', f'changed: {laid}')
	mk = open(os.path.join(tree, 'tools/testing/selftests/Makefile')).read()
	check('TARGETS += exec\nTARGETS += ext4\n' in mk and
	      mk.count('TARGETS += ext4\n') == 1,
	      f'{kind}: ext4 is a selftests TARGET, right after exec')
	kconfig = open(os.path.join(tree, 'fs/ext4/Kconfig')).read()
	check(kconfig.count('source "fs/ext4/Kconfig.test"') == 1,
	      f'{kind}: exactly one source line in fs/ext4/Kconfig')
	r = iwt('install', kdir=tree)
	twice = snapshot(tree)
	check(r.returncode == 0 and not diff(once, twice),
	      f'{kind}: installing twice is installing once',
	      f'{diff(once, twice)} {r.stdout.strip()}')
	r = iwt('uninstall', kdir=tree)
	after = snapshot(tree)
	changed = not_restored(before, after)
	check(r.returncode == 0 and not changed,
	      f'{kind}: uninstall restores every byte and mode',
	      f'{changed} {r.stdout.strip()}')
	r = iwt('uninstall', kdir=tree)
	check(r.returncode == 0 and not diff(after, snapshot(tree)),
	      f'{kind}: uninstall without an overlay changes nothing')


def fixes_round_trip(tree):
	"""FIXES=1 lays fixes/ over the overlay; a run without takes them
	back; a patch recorded but never applied (an interrupted install) is
	undone all the same."""
	before = snapshot(tree)
	r = iwt('install', kdir=tree, env={'FIXES': '1'})
	state = json.load(open(os.path.join(tree, '.ext4-iwt-overlay')))
	series = [ln.split()[0] for ln in open(os.path.join(REPO, 'fixes',
							    'series'))
		  if ln.strip() and not ln.startswith('#')]
	inode = open(os.path.join(tree, 'fs/ext4/inode.c')).read()
	check(r.returncode == 0 and
	      [p['name'] for p in state.get('patches', [])] == series and
	      'if (copied && new_i_size > inode->i_size)' in inode,
	      'FIXES=1: install applies every patch of fixes/series, in order',
	      r.stdout.strip())
	r = iwt('install', kdir=tree)
	state = json.load(open(os.path.join(tree, '.ext4-iwt-overlay')))
	src = ['fs/ext4/inode.c', 'fs/ext4/page-io.c', 'fs/iomap/buffered-io.c']
	now = snapshot(tree)
	check(r.returncode == 0 and not state.get('patches') and
	      all(now[f][0] == before[f][0] for f in src),
	      'install without FIXES takes the fixes back off',
	      r.stdout.strip())
	# Interrupted between recording a patch and applying it.
	first = os.path.join(REPO, 'fixes', series[0])
	os.makedirs(os.path.join(tree, '.ext4-iwt-overlay.patches'))
	shutil.copy(first, os.path.join(tree, '.ext4-iwt-overlay.patches'))
	state['patches'] = [{'name': series[0], 'sha': 'interrupted'}]
	json.dump(state, open(os.path.join(tree, '.ext4-iwt-overlay'), 'w'))
	r = iwt('uninstall', kdir=tree)
	changed = not_restored(before, snapshot(tree))
	check(r.returncode == 0 and not changed,
	      'uninstall undoes an install interrupted before its patch '
	      'applied', f'{changed} {r.stdout.strip()}')


def upstream_interrupted(tree):
	"""make check's series build (check_upstream()) stopped halfway: the
	tree holds the make patches series instead of the overlay, recorded
	as patches with 'upstream' in the state. The next install takes the
	series off and lays the overlay; uninstall then restores the tree."""
	before = snapshot(tree)
	with tempfile.TemporaryDirectory() as out:
		r = iwt('patches', kdir=tree, env={'OUTPUT': out,
						   'SIGNOFF': 'T <t@localhost>'})
		names = sorted(f for f in os.listdir(out) if f.endswith('.patch'))
		pdir = os.path.join(tree, '.ext4-iwt-overlay.patches')
		os.makedirs(pdir)
		state = {'files': [], 'edits': {}, 'upstream': True, 'patches': []}
		for name in names:
			shutil.copy(os.path.join(out, name), pdir)
			data = open(os.path.join(out, name), 'rb').read()
			state['patches'].append({'name': name,
						 'sha': hashlib.sha256(data).hexdigest()})
			subprocess.run(['patch', '-s', '-p1', '-d', tree, '-i',
					os.path.join(out, name)], check=True)
		json.dump(state, open(os.path.join(tree, '.ext4-iwt-overlay'), 'w'))
	laid = os.path.exists(os.path.join(tree, 'fs/ext4/iomap_write_test.c'))
	r2 = iwt('install', kdir=tree)
	kconfig = open(os.path.join(tree, 'fs/ext4/Kconfig')).read()
	check(r.returncode == 0 and len(names) == 2 and laid and
	      r2.returncode == 0 and 'source "fs/ext4/Kconfig.test"' in kconfig and
	      'config EXT4_IOMAP_WRITE_KUNIT_TEST' not in kconfig,
	      'install after a series build stopped halfway takes the series '
	      'off and lays the overlay', r.stdout + r2.stdout)
	r = iwt('uninstall', kdir=tree)
	changed = not_restored(before, snapshot(tree))
	check(r.returncode == 0 and not changed,
	      'and uninstall restores the tree', f'{changed} {r.stdout.strip()}')


def interrupted(tree):
	"""An install stopped halfway (state written, some files and an edit
	not yet) is undone by uninstall and does not block the next install."""
	before = snapshot(tree)
	r = iwt('install', kdir=tree)
	state = json.load(open(os.path.join(tree, '.ext4-iwt-overlay')))
	for rel in state['files'][len(state['files']) // 2:]:
		os.unlink(os.path.join(tree, rel))
	rel = 'fs/ext4/Makefile'
	e = state['edits'][rel]
	path = os.path.join(tree, rel)
	data = open(path, 'rb').read()
	open(path, 'wb').write(data[:e['size']])
	r2 = iwt('uninstall', kdir=tree)
	changed = not_restored(before, snapshot(tree))
	check(r.returncode == 0 and r2.returncode == 0 and not changed,
	      'uninstall undoes an install interrupted halfway (files and an '
	      'edit not yet written)', f'{changed} {r2.stdout.strip()}')
	r = iwt('install', kdir=tree)
	r2 = iwt('uninstall', kdir=tree)
	check(r.returncode == 0 and r2.returncode == 0,
	      'and the next install and uninstall work', r.stdout + r2.stdout)


def refuses(tree, why, expect):
	before = snapshot(tree)
	r = iwt('install', kdir=tree)
	lines = r.stdout.strip().splitlines()
	check(r.returncode != 0 and len(lines) == 1 and expect in r.stdout and
	      not diff(before, snapshot(tree)),
	      f'install refuses {why} with one line and no change',
	      f'exit {r.returncode}: {r.stdout.strip()}')


def main():
	src = subprocess.run([IWT, 'tree'], stdout=subprocess.PIPE, text=True)
	src = src.stdout.strip()
	if src and not os.path.isfile(os.path.join(src, 'fs/ext4/Kconfig')):
		src = ''
	with tempfile.TemporaryDirectory() as tmp:
		if not src:
			check(False, 'a cached kernel tree to copy (make tree)')
			return
		plain = os.path.join(tmp, 'plain')
		copy_tree(src, plain)
		round_trip(plain, 'plain tree')
		fixes_round_trip(plain)
		interrupted(plain)
		upstream_interrupted(plain)

		repo = os.path.join(tmp, 'git')
		copy_tree(src, repo)
		make_git(repo)
		round_trip(repo, 'git tree')
		iwt('install', kdir=repo)
		iwt('uninstall', kdir=repo)
		status = git(repo, 'status', '--porcelain')
		check(status == '', 'git tree: git status is clean after a '
		      'round trip', status)

		empty = os.path.join(tmp, 'empty')
		os.makedirs(empty)
		open(os.path.join(empty, 'Makefile'), 'w').write('all:\n')
		refuses(empty, 'a directory that is no kernel tree',
			'not a kernel tree')

		mk = os.path.join(repo, 'fs/ext4/Makefile')
		orig = open(mk).read()
		open(mk, 'w').write(orig.replace('obj-$(CONFIG_EXT4_FS) += ext4.o',
						 'obj-y += ext4.o'))
		refuses(repo, 'a Makefile without its anchor line', 'lacks')
		open(mk, 'w').write(orig)

		planted = os.path.join(repo, 'fs/ext4/iomap_write_test.c')
		open(planted, 'w').write('/* the user\'s own file */\n')
		refuses(repo, 'a tree that already has one of its files',
			'not ours')
		os.unlink(planted)


if __name__ == '__main__':
	main()
	failed = results.count(False)
	print(f'{len(results) - failed} passed, {failed} failed')
	sys.exit(1 if failed else 0)
