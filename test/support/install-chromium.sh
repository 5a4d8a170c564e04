#!/usr/bin/env bash
# Installs Debian's chromium, the headless browser the retrospective-report test opens the HTML
# report in, when missing. Idempotent; quick when present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: already installed"
  exit 0
fi
echo "chromium: installing (Debian package)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: installed"
