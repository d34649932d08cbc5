#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/api/test_ui_browser.py) when it is
# missing and apt-get can be used (root, as on the development and CI machines). Playwright's
# Python package drives it; it downloads no browser. The tests skip with a reason without it.
set -u
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser tests will skip: no /usr/bin/chromium (apt-get install chromium)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "browser tests will skip: installing chromium failed" >&2
exit 0
