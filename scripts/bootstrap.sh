#!/usr/bin/env bash
# Install what `make run` / `make test` need and is missing on a fresh Debian machine:
# Debian packages (venv support, Node.js/npm for buf), the virtualenv with our pinned Python
# packages, and the buf CLI from npm. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=.venv
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

apt_missing=()
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || apt_missing+=(python3-venv)
command -v npm >/dev/null || apt_missing+=(nodejs npm)
# h2load (nghttp2-client) drives the benchmarks; curl is used by the README examples.
if [ "${WITH_BENCH_TOOLS:-0}" = 1 ]; then command -v h2load >/dev/null || apt_missing+=(nghttp2-client); fi
command -v curl >/dev/null || apt_missing+=(curl)
# bubblewrap sandboxes candidates' code (Python via our interpreter, JavaScript via node).
command -v bwrap >/dev/null || apt_missing+=(bubblewrap)
# OCR of scanned resumes (with the packs of the 12 interview languages) and offline speech.
command -v tesseract >/dev/null || apt_missing+=(tesseract-ocr)
for pack in spa fra deu por hin chi-sim jpn kor ara rus ita; do
  [ -e "/usr/share/tesseract-ocr/5/tessdata/${pack/-/_}.traineddata" ] \
    || apt_missing+=("tesseract-ocr-$pack")
done
command -v espeak-ng >/dev/null || apt_missing+=(espeak-ng)
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${apt_missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# Re-install when pyproject changes or a top-level package appears (editable installs map
# packages at install time).
stamp="$VENV/.installed-$( (cat pyproject.toml; ls -d server/*/ generated/*/ clients/python/*/ 2>/dev/null) | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing Python packages"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e '.[dev]'
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

BUF_VERSION=1.75.0
if [ ! -x .tools/node_modules/.bin/buf ] || ! .tools/node_modules/.bin/buf --version | grep -qx "$BUF_VERSION"; then
  echo "installing buf $BUF_VERSION"
  npm install --silent --no-audit --no-fund --prefix .tools "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi
