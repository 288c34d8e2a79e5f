#!/usr/bin/env bash
# The forward bench on tfjs-node-gpu, for a machine with an NVIDIA GPU, CUDA 11.8 and cuDNN 8 (what
# @tensorflow/tfjs-node-gpu 4.22 links against) and network access for its install script.
# Nothing in CI needs it. Prints the GPU, then samples/s by batch size on tensorflow-gpu, then the
# same on wasm for the ratio.
#
#   bash bench/gpu-check.sh [--seconds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
  echo "gpu-check: nvidia-smi not found: no NVIDIA GPU or driver here" >&2
  exit 2
fi

# The optional dependency is absent where its install script could not download libtensorflow.
if ! node -e "require('@tensorflow/tfjs-node-gpu')" 2>/dev/null; then
  echo "installing @tensorflow/tfjs-node-gpu@4.22.0 (downloads libtensorflow with GPU support)" >&2
  npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0
fi

echo "== tensorflow-gpu"
npx tsx bench/forward.ts --backend tensorflow-gpu "$@"
echo "== wasm (the CPU fallback, for the ratio)"
npx tsx bench/forward.ts --backend wasm "$@"
