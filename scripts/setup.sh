#!/usr/bin/env bash
# Install everything evalkit needs on this machine, doing only what is missing:
#   - Debian packages: CJK fonts for charts and PDFs, Pango for WeasyPrint (apt-get, when missing);
#   - a virtual environment in .venv with evalkit (editable) and its dev tools.
# Safe to run repeatedly; the second run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

# libharfbuzz-subset0: WeasyPrint subsets the CJK fonts with it in ~0.1 s (fontTools takes ~4 s a face)
DEBIAN_PACKAGES=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The interpreter: $PYTHON when set; else Debian's own python3 when it is 3.11 or newer and can make
# a venv; else the python3 on PATH. Debian's build runs evalkit's pure-Python work (WeasyPrint's
# layout, matplotlib, pandas glue) markedly faster than a default pyenv build (compiled without
# --enable-optimizations, against a shared libpython): a whole demo county 7 % less worker time
# (docs/benchmarks.md). An existing .venv is kept; `rm -rf .venv` to make it again.
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON=/usr/bin/python3
  fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.evalkit-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (evalkit)" >/dev/null
  touch "$stamp"
fi

# evalkit's own modules compiled to bytecode (__pycache__, ignored by git). pip compiles the
# packages it installs, but not the source of an editable install, and with PYTHONDONTWRITEBYTECODE
# set (as on many CI machines) Python never caches what it compiles: every process of a run (the
# main one, each worker, each kernel template) would compile evalkit again, ~0.2 s of CPU each.
# Only files changed since the last run are compiled (~0.05 s when nothing changed).
.venv/bin/python -m compileall -q src/evalkit
