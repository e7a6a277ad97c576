#!/usr/bin/env bash
# Builds kube-apiserver and etcd from their published Go modules into a cache outside the repository,
# the way envtest users have them. Reuses binaries that already report the pinned versions, and rebuilds
# a half-built cache (a binary that is missing, truncated or of another version).
#
# Usage: hack/control-plane/build.sh          prints the folder holding both binaries (KUBEBUILDER_ASSETS style)
# Env:   SGP_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
cache=${SGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator}
bin="$cache/control-plane-$K8S_VERSION-etcd-$ETCD_VERSION"

log() { printf 'control-plane: %s\n' "$*" >&2; }

# A binary's version is read into a variable before it is matched: piping `--version` into `grep -q` lets grep
# exit at the first match, the binary die of SIGPIPE on its next line, and (under pipefail) a good cache look
# stale.
reports() { local out; out=$("$1" --version 2>/dev/null) || return 1; grep -q -- "$2" <<<"$out"; }
have_apiserver() { [ -x "$bin/kube-apiserver" ] && reports "$bin/kube-apiserver" "^Kubernetes $K8S_VERSION\$"; }
have_etcd() { [ -x "$bin/etcd" ] && reports "$bin/etcd" "etcd Version: ${ETCD_VERSION#v}"; }

# A complete cache needs no Go toolchain.
if have_apiserver && have_etcd; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain found: install Go >= 1.26 (https://go.dev/doc/install), or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd, or USE_EXISTING_CLUSTER=true with KUBECONFIG"
  exit 3
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly
mkdir -p "$bin"

if ! have_apiserver; then
  log "building kube-apiserver $K8S_VERSION (cold: ~10-20 min on 2 cores; cached afterwards) ..."
  start=$(date +%s)
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  # Build to a temporary name and rename: an interrupted build never leaves a binary that looks complete.
  (cd "$here/kube-apiserver" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" \
    -o "$bin/kube-apiserver.partial" k8s.io/kubernetes/cmd/kube-apiserver)
  mv -f "$bin/kube-apiserver.partial" "$bin/kube-apiserver"
  have_apiserver || { log "built kube-apiserver does not report $K8S_VERSION"; exit 1; }
  log "kube-apiserver built in $(( $(date +%s) - start ))s"
fi

if ! have_etcd; then
  log "building etcd $ETCD_VERSION ..."
  start=$(date +%s)
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
    -o "$bin/etcd.partial" go.etcd.io/etcd/server/v3)
  mv -f "$bin/etcd.partial" "$bin/etcd"
  have_etcd || { log "built etcd does not report $ETCD_VERSION"; exit 1; }
  log "etcd built in $(( $(date +%s) - start ))s"
fi

echo "$bin"
