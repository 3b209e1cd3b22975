#!/usr/bin/env bash
# Prepares a fresh machine for this project: the locked Python environment (.venv, from uv.lock),
# checkov's own pinned environment (.venv-checkov, it cannot share ours: it pins boto3 and packaging),
# and, on Debian/Ubuntu as root, the system packages the tests drive for real (SoftHSM2 for PKCS#11,
# Chromium for the report page, npm for the SARIF Multitool). Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv ${UV_VERSION} (Python package manager) with pip" >&2
  python3 -m pip install --quiet "uv==${UV_VERSION}"
fi

# This platform sets PYTHONDONTWRITEBYTECODE=1: compile bytecode once at install, or every process
# recompiles pulumi-aws (measured: 5.8 s of a 10.9 s preview).
export UV_COMPILE_BYTECODE=1
# --frozen: install exactly what uv.lock says, never re-resolve. The project itself is installed
# (editable) with its packages, so no script edits sys.path.
uv sync --frozen --quiet

if [ -f requirements-checkov.txt ] && [ ! -x .venv-checkov/bin/checkov ]; then
  echo "bootstrap: creating checkov's pinned environment in .venv-checkov" >&2
  uv venv --quiet --python 3.11 .venv-checkov
  uv pip install --quiet --python .venv-checkov/bin/python --require-hashes -r requirements-checkov.txt
fi

missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdfinfo >/dev/null 2>&1 || missing+=(poppler-utils)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v uuidgen >/dev/null 2>&1 || missing+=(uuid-runtime)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing system packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing system packages: ${missing[*]} (install them with your package manager," \
         "e.g. 'sudo apt-get install ${missing[*]}'); the tests that need them will fail" >&2
  fi
fi

# Microsoft's SARIF Multitool (npm, pinned by package-lock.json): the tests validate the audit's SARIF
# log with it, against the official 2.1.0 schema and its validation rules.
if command -v npm >/dev/null 2>&1 && [ ! -x tools/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool ]; then
  echo "bootstrap: installing the SARIF Multitool in tools/sarif-multitool" >&2
  npm ci --prefix tools/sarif-multitool --no-audit --no-fund --loglevel=error
fi
