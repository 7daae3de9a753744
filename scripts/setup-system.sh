#!/usr/bin/env bash
# Installs the Debian packages the project's tests and model tooling need (idempotent).
# PIL is the preprocessing reference; torch/onnx build and check the model zoo; chromium runs
# the web page tests (test/browser/); libjpeg-turbo-progs (jpegtran) makes the restart-marker and
# arithmetic-coded JPEGs of test/unit/jpeg-reduced.test.ts.
set -euo pipefail
# libopenblas0-pthread: without it Debian's torch uses the reference BLAS (30x slower matmuls here).
PKGS=(libopenblas0-pthread python3-pil python3-numpy python3-torch python3-torchvision python3-onnx python3-pytest chromium libjpeg-turbo-progs)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "system packages ready: ${PKGS[*]}"
