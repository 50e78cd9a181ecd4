# SPDX-License-Identifier: GPL-2.0
#
# ext4 buffered-write short-write tests: lay them onto a kernel tree,
# build, run. See README.md.
#
#   make kunit   [KDIR=...|TREE=default|6.12|rc|iomap] [FILTER=glob] [ARCH=um]
#   make check   every check of the project; ends with "N passed, N failed"
#   make selftest, install KDIR=..., uninstall KDIR=..., bench, tree
#   make expected TREE=... [WHAT=kselftest]   rewrite a tree's expected list
#   KNOWN=fail   strict mode: every known kernel issue fails

IWT	:= scripts/ext4-iwt
# Only the variables this Makefile documents reach the harness. ARCH is
# passed only when given on make's command line: one exported for cross
# builds elsewhere must not select the test kernel's architecture.
export KDIR TREE SERIES FILTER BUILD_DIR KNOWN EXPECTED WHAT FIXES CASE DEBUG N OUTPUT \
	INSTALL OFFLINE RESULT UML_TIMEOUT SELFTEST_ARGS
ifeq ($(origin ARCH),command line)
export IWT_ARCH := $(ARCH)
endif

KUNIT_ARGS :=
# JSON= alone (empty, on the command line) prints kunit.py's JSON on stdout.
ifeq ($(origin JSON),command line)
KUNIT_ARGS += --json$(if $(JSON),=$(JSON))
endif
ifneq ($(JUNIT),)
KUNIT_ARGS += --junit=$(JUNIT)
endif

.PHONY: kunit check selftest install uninstall bench tree expected update \
	clean-cache show-env repeat coverage check-full patches

kunit:
	$(IWT) kunit $(KUNIT_ARGS)

check:
	$(IWT) check

# make check and the debug kernel (about 25 minutes more).
check-full:
	$(IWT) check --full

selftest:
	$(IWT) selftest

install:
	$(IWT) install

uninstall:
	$(IWT) uninstall

expected:
	$(IWT) expected

tree:
	@$(IWT) tree

bench:
	$(IWT) bench

update:
	$(IWT) update

clean-cache:
	$(IWT) clean-cache

# What the harness sees of make's variables (tests/harness_test.py).
show-env:
	@env | grep -E '^(IWT_ARCH|KDIR|TREE|SERIES|FILTER|CASE|KNOWN|FIXES|INSTALL|OFFLINE)=' || :

repeat:
	$(IWT) repeat

coverage:
	$(IWT) coverage

patches:
	$(IWT) patches
