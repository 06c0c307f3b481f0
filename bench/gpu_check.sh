#!/usr/bin/env bash
# GPU check for issue 17, in under 5 minutes on one GPU machine (falls back to the CPU without CUDA):
#   1. the one-click MNIST recipe and the plain PyTorch reference, time-to-99% and their ratio;
#   2. fit throughput of the model families, engine vs a hand-written torch loop (and jit_compile=True
#      with GPU_CHECK_JIT=1), median ratios;
#   3. a DistributedDataParallel run of the exported one-click training script under torchrun, one process
#      per GPU (two gloo processes on a CPU-only machine), on 6,400 images.
# Usage: bash bench/gpu_check.sh            (GPU_CHECK_ROUNDS=3, GPU_CHECK_JIT=0)
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=torch
DEVICE=$(python3 -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
NPROC=$(python3 -c "import torch; print(torch.cuda.device_count() or 2)")
ROUNDS=${GPU_CHECK_ROUNDS:-3}
OUT=${GPU_CHECK_OUT:-$(mktemp -d)}
echo "== gpu_check: device=$DEVICE processes=$NPROC torch=$(python3 -c 'import torch; print(torch.__version__)') load: $(uptime)"
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
start=$SECONDS

echo "== 1. one-click MNIST recipe vs plain PyTorch reference ($DEVICE)"
timeout 150 python3 bench/bench_mnist_fast.py --device "$DEVICE" --reference --checkpoints 10 \
  | grep -E "time-to-99%|training:|test_accuracy: |recipe / reference|summary"

echo "== 2. model families, engine vs hand-written torch ($DEVICE)"
extra=""; [ "${GPU_CHECK_JIT:-0}" = 1 ] && extra="--jit"
timeout 120 python3 bench/bench_families.py --device "$DEVICE" --no-keras --rounds "$ROUNDS" $extra \
  | sed -n '/^summary/,$p'

echo "== 3. DDP: the exported one-click script under torchrun, $NPROC process(es)"
python3 -m visualkeras_app export mnist_fast_cnn "$OUT/train.py" --training-script >/dev/null
timeout 90 torchrun --standalone --nproc_per_node="$NPROC" "$OUT/train.py" --max-train-samples 6400 \
  --output "$OUT/ddp.keras" | tail -3
echo "== gpu_check done in $((SECONDS - start)) s; load: $(uptime)"
