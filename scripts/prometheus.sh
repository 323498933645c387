#!/usr/bin/env bash
# Installs what tests/observability drives, idempotently: Debian's prometheus (with
# promtool) and prometheus-alertmanager. The Debian services are NOT started (and are
# stopped and disabled if the package's postinst started them): the tests run their own
# processes on free loopback ports, with their own data directories and configs.
# Prints where the binaries are, one a line: prometheus, promtool, alertmanager, amtool.
set -euo pipefail

have_all() {
    command -v prometheus >/dev/null && command -v promtool >/dev/null \
        && command -v prometheus-alertmanager >/dev/null && command -v amtool >/dev/null
}

if have_all; then
    echo "prometheus.sh: prometheus and alertmanager present" >&2
else
    echo "prometheus.sh: installing Debian's prometheus and prometheus-alertmanager" >&2
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    # policy-rc.d exit 101 keeps the packages' postinst from starting their services.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod +x "$policy"
        made_policy=1
    fi
    trap 'if [[ -n $made_policy ]]; then $SUDO rm -f "$policy"; fi' EXIT
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y --no-install-recommends prometheus prometheus-alertmanager >&2 \
        || { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends prometheus prometheus-alertmanager >&2; }
fi
# Should a service manager have started them anyway, stop them: the tests own the ports.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    for unit in prometheus prometheus-alertmanager; do
        systemctl stop "$unit" 2>/dev/null || true
        systemctl disable "$unit" 2>/dev/null || true
    done
fi
command -v prometheus
command -v promtool
command -v prometheus-alertmanager
command -v amtool
