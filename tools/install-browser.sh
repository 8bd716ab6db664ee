#!/bin/sh
# Installs the browser the browser tests drive: Debian's chromium at /usr/bin/chromium.
# Idempotent: does nothing when it is already there. Playwright's own browser download is not
# used (it needs network access to Playwright's CDN); the tests point Playwright at this binary.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "install-browser: $CHROMIUM is already installed ($("$CHROMIUM" --version 2>/dev/null | head -n 1))."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: apt-get not found; install Chromium so that $CHROMIUM exists." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-browser: run as root (or install sudo) to apt-get install chromium." >&2
    exit 1
  fi
fi

echo "install-browser: installing chromium with apt-get…"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
"$CHROMIUM" --version
