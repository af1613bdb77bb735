#!/usr/bin/env bash
# The README's test command: install the real servers the test suite drives (sshd, lighttpd + git
# http-backend, git daemon), install gitclaim with its test extra, run the whole suite.
# Runs as root on a bare Debian 12 machine (CI=true, no stdin) as well as by hand. Safe to run again.
# Extra arguments go to pytest.
set -euo pipefail

cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"
fi

# Installing openssh-server or lighttpd must not start the packaged services: they would listen
# on every interface (:22, :80). The tests start their own copies on 127.0.0.1 only. A
# policy-rc.d that answers 101 ("action forbidden") is Debian's switch for that; it is removed
# again afterwards unless it was already there.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT
fi

# chromium: the board's page is checked in a real headless browser (tests/browser.py).
# gitolite3: a real forge with users in front of the guard (tests/support/gitolite.py).
PACKAGES=(git openssh-server openssh-client lighttpd chromium gitolite3)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  PACKAGES+=(python3 python3-pip python3-venv)
fi

# gitolite3 asks debconf for an admin key and, given one, sets itself up for a `gitolite3` system user. An empty
# key (the preseed, and the answer noninteractive installs get anyway) makes its postinst skip the setup: no user,
# no repositories. The tests set up their own gitolite under a temporary HOME behind their own sshd on 127.0.0.1;
# the package ships no service, so nothing starts listening.
echo "gitolite3 gitolite3/adminkey string" | $SUDO debconf-set-selections 2>/dev/null || true

echo "tests: apt-get install ${PACKAGES[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${PACKAGES[@]}" >/dev/null

# sshd refuses to start without its privilege separation directory (systemd normally makes it).
$SUDO mkdir -p -m 0755 /run/sshd

# Debian's own python3 is "externally managed" (PEP 668): install into a virtualenv then, and
# put it first on PATH so the commands below are the same either way.
if python3 -c 'import os, sys, sysconfig; sys.exit(not (sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))'; then
  VENV="${GITCLAIM_CI_VENV:-${HOME:-/root}/.cache/gitclaim-ci-venv}"
  if [ ! -x "$VENV/bin/python3" ]; then
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
      $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    python3 -m venv "$VENV"
  fi
  export PATH="$VENV/bin:$PATH"
fi

echo "tests: pip install -e .[test] ($(python3 --version))"
# compat: the editable install is one path line in a .pth file. The default (strict) mode installs an import
# finder that every Python process then loads at start (about 25 ms here, paid by each of the suite's gitclaim
# processes); a user's `pip install .` has neither.
python3 -m pip install -q -e '.[test]' --config-settings editable_mode=compat

echo "tests: $(git --version), $(/usr/sbin/sshd -V 2>&1 | head -n1), $(/usr/sbin/lighttpd -v | head -n1)"
# Compiled modules up front: the suite starts about a thousand gitclaim processes, and an environment with
# PYTHONDONTWRITEBYTECODE=1 would make each of them compile every module again.
python3 -m compileall -q gitclaim
# Lint and types first: they take seconds, and a failure there is cheaper to read than a test's.
echo "tests: ruff check, mypy"
python3 -m ruff check gitclaim tests benchmarks
python3 -m mypy
# Two workers: the suite's time goes into real git and gitclaim processes, which one worker leaves half idle.
python3 -m pytest -q -n 2 "$@"
