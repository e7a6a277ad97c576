#!/usr/bin/env bash
# Builds Helm from its published Go module into a cache outside the repository, pinned to one version, the way
# hack/control-plane/build.sh builds kube-apiserver. Reuses a binary that already reports the pinned version
# (no Go needed then), and rebuilds one that is missing, truncated or of another version.
#
# Usage: hack/helm/build.sh           prints the path of the helm binary, building it when needed
#        hack/helm/build.sh --cached  the same, but never builds (tests use this: a cold build takes minutes)
# Env:   SGP_CACHE_DIR                cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator)
# Exit:  3 when the cache holds no usable helm and it cannot or must not be built (one line on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELM_VERSION=v4.3.2
cache=${SGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator}
bin="$cache/helm-$HELM_VERSION"

log() { printf 'helm: %s\n' "$*" >&2; }

# Read into a variable before matching: `helm version | grep -q` could kill helm with SIGPIPE (see build.sh of
# the control plane).
have_helm() {
  local out
  [ -x "$bin/helm" ] || return 1
  out=$("$bin/helm" version --template '{{.Version}}' 2>/dev/null) || return 1
  [ "$out" = "$HELM_VERSION" ]
}

if have_helm; then
  echo "$bin/helm"
  exit 0
fi

if [ "${1:-}" = --cached ]; then
  log "helm $HELM_VERSION is not in $bin: run make helm-bin (builds it with Go >= 1.26)"
  exit 3
fi

if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain found to build helm $HELM_VERSION: install Go >= 1.26 (https://go.dev/doc/install), or put a helm $HELM_VERSION binary at $bin/helm"
  exit 3
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly
mkdir -p "$bin"
log "building helm $HELM_VERSION (cold: ~2-4 min on 2 cores; cached afterwards) ..."
start=$(date +%s)
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
ldflags="$ldflags -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
# Build to a temporary name and rename: an interrupted build never leaves a binary that looks complete.
(cd "$here" && go build -trimpath -ldflags "$ldflags" -o "$bin/helm.partial" helm.sh/helm/v4/cmd/helm)
mv -f "$bin/helm.partial" "$bin/helm"
have_helm || { log "built helm does not report $HELM_VERSION"; exit 1; }
log "helm built in $(( $(date +%s) - start ))s"
echo "$bin/helm"
