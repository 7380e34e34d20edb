#!/usr/bin/env bash
# Sets up everything Kiln needs on a Debian/Ubuntu machine, then either launches the app or runs
# the whole test suite:
#   bash scripts/dev.sh start   # install what is missing, build, launch (desktop or web mode)
#   bash scripts/dev.sh test    # install what is missing, build, run every check and test
# Without root (and without password-less sudo) it prints the one line to run, then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
case "$mode" in start | test) ;; *)
  echo "usage: bash scripts/dev.sh start|test" >&2
  exit 2
  ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/system-packages.txt | grep -v '^$' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo)
  else
    echo "Kiln needs these Debian packages. Run this once, then run this command again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "Installing ${missing[*]}"
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Node.js and npm packages ----------------------------------------------------------------
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Kiln needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))."
  echo "Install it from your distribution or nodejs.org, then run this command again."
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "Installing npm packages"
  # Electron's binary is optional: it downloads where the internet allows (start); the tests use
  # web mode in Chromium and need only Electron's type definitions.
  if [ "$mode" = test ]; then export ELECTRON_SKIP_BINARY_DOWNLOAD=1; fi
  npm ci --no-audit --no-fund
fi

# --- Build -----------------------------------------------------------------------------------
say "Building the kernel base and the app"
if [ -f kernel/Makefile ]; then make -s -C kernel; fi
node scripts/build.mjs

if [ "$mode" = start ]; then
  exec npm start
fi

# --- Services the tests use ------------------------------------------------------------------
if [ -x scripts/start-dockerd.sh ]; then bash scripts/start-dockerd.sh; fi

say "Type check, lint, format"
npm run --silent check
say "Tests"
exec node scripts/test.mjs
