#!/usr/bin/env bash
# Makes Debian's `prometheus` package available to the tests: `promtool` (the /metrics format check and the
# alert rule unit tests) and the `prometheus` server itself (test/integration/prometheus/prometheus.test.ts
# starts one on loopback to scrape a running operator and evaluate the alerts and dashboard queries).
# Installs the package with apt when a binary is missing and we are root (CI, fresh machines); otherwise says
# how, and those tests skip with that one-line reason (they fail instead when CI=true). Prints nothing when
# both binaries exist.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then exit 0; fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing promtool and prometheus (Debian package prometheus) for the metrics and alert tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package also enables a Prometheus server; the tests start their own on loopback.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  command -v promtool >/dev/null && command -v prometheus >/dev/null
else
  echo "promtool/prometheus missing: install Debian's prometheus package (apt-get install prometheus) to run the metrics and alert tests" >&2
fi
