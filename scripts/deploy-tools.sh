#!/usr/bin/env bash
# Installs what tests/deploy drives, idempotently:
#   - helm, pinned below, built from the Go module proxy into .venv-tools/bin (not on PATH;
#     about 1.5 to 3 minutes the first time on two cores, seconds after);
#   - docker-compose, Debian's package (1.29): `docker-compose config` validates
#     deploy/compose.yaml without a Docker daemon or an image registry.
# Needs Go (>= 1.24) with the Go module proxy, and apt-get as root or through sudo.
# Prints where the binaries are, one a line: helm, docker-compose.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
HELM_VERSION=v3.22.0
BIN=$REPO/.venv-tools/bin
mkdir -p "$BIN"

# A helm built by `go install` reports no full version, so a stamp file records it.
if [[ -x $BIN/helm && -f $BIN/.helm.version && $(cat "$BIN/.helm.version") == "$HELM_VERSION" ]]; then
    echo "deploy-tools.sh: helm $HELM_VERSION present" >&2
else
    command -v go >/dev/null || { echo "deploy-tools.sh: Go is not installed (https://go.dev/dl/, >= 1.24)" >&2; exit 1; }
    echo "deploy-tools.sh: building helm $HELM_VERSION (go install, minutes the first time)" >&2
    start=$SECONDS
    GOBIN=$BIN go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    echo "$HELM_VERSION" > "$BIN/.helm.version"
    echo "deploy-tools.sh: helm built in $((SECONDS - start)) s" >&2
fi

if command -v docker-compose >/dev/null; then
    echo "deploy-tools.sh: docker-compose present" >&2
else
    echo "deploy-tools.sh: installing Debian's docker-compose" >&2
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y --no-install-recommends docker-compose >&2 \
        || { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends docker-compose >&2; }
fi
echo "$BIN/helm"
command -v docker-compose
