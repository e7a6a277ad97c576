#!/usr/bin/env bash
# Makes `promtool` available for the /metrics test (test/integration/run/metrics.test.ts): it comes with
# Debian's `prometheus` package. Installs it with apt when missing and we are root (CI, fresh machines);
# otherwise says how, and the test skips with that one-line reason. Prints nothing when promtool exists.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then exit 0; fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing promtool (Debian package prometheus) for the /metrics check" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package also enables a Prometheus server; the check needs only the binary.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  command -v promtool >/dev/null
else
  echo "promtool is missing: install Debian's prometheus package (apt-get install prometheus) to run the /metrics check" >&2
fi
