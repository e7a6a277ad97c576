#!/usr/bin/env bash
# Builds EKS's VPC resource controller (github.com/aws/amazon-vpc-resource-controller-k8s, the version the VPC CNI
# pins) from its published Go module into the cache outside the repository, for the side-by-side benchmarks
# (`make bench BENCH_ARGS=--with-anchor`). Not part of `make test`. Reuses a complete binary of the pinned version;
# an interrupted build never leaves one that looks complete.
#
# Usage: hack/eks-controller/build.sh      prints the path of the controller binary
# Env:   SGP_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION=v1.8.0
MODULE=github.com/aws/amazon-vpc-resource-controller-k8s
cache=${SGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sgp-operator}
bin="$cache/eks-vpc-resource-controller-$VERSION/controller"

log() { printf 'eks-controller: %s\n' "$*" >&2; }

if [ -x "$bin" ] && [ -s "$bin.version" ] && [ "$(cat "$bin.version")" = "$MODULE@$VERSION" ]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain found: install Go >= 1.26.4 (the controller's go.mod needs it; https://go.dev/doc/install) to build EKS's VPC resource controller $VERSION for the side-by-side benchmarks"
  exit 3
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly
mkdir -p "$(dirname "$bin")"
log "building $MODULE $VERSION (~3-5 min on 2 cores; cached afterwards) ..."
start=$(date +%s)
rm -f "$bin.version"
(cd "$here" && go build -trimpath -ldflags "-s -w -X $MODULE/pkg/version.GitVersion=$VERSION" -o "$bin.partial" "$MODULE")
mv -f "$bin.partial" "$bin"
printf '%s\n' "$MODULE@$VERSION" >"$bin.version"
log "built in $(( $(date +%s) - start ))s"
echo "$bin"
