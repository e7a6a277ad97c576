#!/usr/bin/env bash
# Pins every FROM of the Dockerfile to the digest its tag points at now, so a build uses exactly the base images
# that were reviewed, and a tag moved upstream changes nothing until someone pins again.
#
# Usage: hack/image/pin-base-images.sh [Dockerfile]      (make pin-base-images)
# Needs a registry client that can resolve a tag: `docker buildx imagetools` (Docker) or `crane`.
# Exit:  3 when neither is present (one line on stderr); the Dockerfile is left as it was.
set -euo pipefail

file=${1:-Dockerfile}
log() { printf 'pin-base-images: %s\n' "$*" >&2; }

if command -v docker >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
  resolve() { docker buildx imagetools inspect --format '{{.Manifest.Digest}}' "$1"; }
elif command -v crane >/dev/null 2>&1; then
  resolve() { crane digest "$1"; }
else
  log "no registry client found: install Docker (with buildx) or crane to resolve the base images' digests"
  exit 3
fi

# FROM <name>:<tag>[@sha256:<digest>] [AS <stage>]: the tag is what gets resolved again.
refs=$(sed -nE 's/^FROM ([^ @]+:[^ @]+)(@sha256:[0-9a-f]{64})?( AS .*)?$/\1/p' "$file" | sort -u)
[ -n "$refs" ] || { log "$file has no FROM <image>:<tag> line"; exit 1; }
for ref in $refs; do
  digest=$(resolve "$ref")
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { log "$ref resolved to '$digest', not a sha256 digest"; exit 1; }
  pattern=$(printf '%s' "$ref" | sed 's/[.[\*^$]/\\&/g')
  sed -i -E "s#^FROM ${pattern}(@sha256:[0-9a-f]{64})?( |\$)#FROM ${ref}@${digest}\\2#" "$file"
  log "$ref -> $digest"
done
