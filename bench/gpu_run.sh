#!/usr/bin/env bash
# One prepared run of bench/gpu_check.py on a CUDA machine that may reach no package registry (docs/gpu.md).
# It installs the studio's requirements from the wheels carried along (WHEELS, default ./wheels) into .venv-gpu,
# which also sees the machine's own packages, so a CUDA torch 2.13.0 already installed there is used as it is;
# then it runs the check once and prints everything. The log and the figures go to OUT (default ./gpu-check-out).
# Extra arguments go to gpu_check.py (e.g. --steps 12 --batch-size 16).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-wheels}
OUT=${OUT:-gpu-check-out}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt" || echo "nvidia-smi is not available"
if [ ! -x .venv-gpu/bin/python ]; then
  "$PYTHON" -m venv --system-site-packages .venv-gpu
fi
if [ -d "$WHEELS" ]; then
  .venv-gpu/bin/python -m pip install -q --no-index --find-links "$WHEELS" -r requirements.txt
else
  echo "no wheel folder '$WHEELS': using the packages this Python already has"
fi
.venv-gpu/bin/python -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
      'devices', torch.cuda.device_count(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" \
  | tee "$OUT/torch.txt"
.venv-gpu/bin/python bench/gpu_check.py --json "$OUT/gpu_check.json" "$@" 2>&1 | tee "$OUT/gpu_check.log"
exit "${PIPESTATUS[0]}"
