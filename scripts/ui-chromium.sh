#!/bin/sh
# Debian's Chromium for dcsim-ui's Playwright tests (Playwright's own browser download is
# not reachable). Idempotent: does nothing when /usr/bin/chromium is there.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ui-chromium.sh: /usr/bin/chromium is missing; as root run: apt-get install -y chromium" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
