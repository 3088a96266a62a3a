#!/usr/bin/env bash
# One command from a fresh clone to a trained model: installs dependencies, builds rnnl,
# fetches and verifies MNIST, and runs rnnl-train (default: --model rnl_deep --dataset mnist).
# Extra arguments go to rnnl-train, e.g.  bash scripts/train.sh --model cnn --epochs 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rnnl-train
bash data/fetch-mnist.sh

args=("$@")
has() { local f; for f in "${args[@]}"; do [ "$f" = "$1" ] && return 0; done; return 1; }
has --model || args=(--model rnl_deep "${args[@]}")
has --dataset || args=(--dataset mnist "${args[@]}")
exec build/apps/rnnl-train "${args[@]}"
