#!/usr/bin/env bash
# Builds what dcsim-vmware's tests drive, idempotently, into .venv-tools/bin (not on
# PATH, so other packages' test runs never start a simulator by accident):
#   - dcsim-vcsim: dc-sim's vCenter simulator, a short Go main over govmomi's simulator
#     package (dcsim-vmware/src/dcsim_vmware/simulator, pinned in its go.mod); rebuilt
#     only when its sources change (about 30 s; seconds with a warm Go build cache);
#   - govc, pinned below, a real vSphere CLI to test with (about a minute the first time).
# Needs Go >= 1.24 and the Go module proxy. Prints where the binaries are.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
GOVC_VERSION=v0.46.0
BIN=$REPO/.venv-tools/bin
SRC=$REPO/dcsim-vmware/src/dcsim_vmware/simulator
mkdir -p "$BIN"
command -v go >/dev/null || { echo "vcsim.sh: Go is not installed (https://go.dev/dl/, >= 1.24)" >&2; exit 1; }

stamp=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)
if [[ -x $BIN/dcsim-vcsim && -f $BIN/.dcsim-vcsim.stamp && $(cat "$BIN/.dcsim-vcsim.stamp") == "$stamp" ]]; then
    echo "vcsim.sh: dcsim-vcsim up to date" >&2
else
    echo "vcsim.sh: building dcsim-vcsim" >&2
    (cd "$SRC" && go build -o "$BIN/dcsim-vcsim" .)
    echo "$stamp" > "$BIN/.dcsim-vcsim.stamp"
fi

if [[ -x $BIN/govc ]] && "$BIN/govc" version | grep -q "${GOVC_VERSION#v}"; then
    echo "vcsim.sh: govc $GOVC_VERSION present" >&2
else
    echo "vcsim.sh: installing govc $GOVC_VERSION" >&2
    GOBIN=$BIN go install "github.com/vmware/govmomi/govc@$GOVC_VERSION"
fi
echo "$BIN/dcsim-vcsim"
echo "$BIN/govc"
