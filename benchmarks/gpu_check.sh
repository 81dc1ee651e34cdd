#!/usr/bin/env bash
# GPU check (issue 6), one command, < 5 minutes, on a machine with an NVIDIA GPU:
#   bash benchmarks/gpu_check.sh
# 1. nvidia-smi; 2. tests/test_device.py (its GPU tests run: CUDA vs CPU float64); 3. run_all.py
# --device cuda at widths 1e5 and 1e6: train step and empirical_ntk, with the ratio lines.
# Needs a CUDA build of torch in $PYTHON (default: .venv/bin/python, else python3). Exits non-zero,
# saying why, when there is no GPU, no CUDA torch, or a test fails. Writes benchmarks/results-gpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
fail() { echo "gpu_check: FAILED: $*" >&2; exit 1; }

echo "== nvidia-smi"
command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: no NVIDIA driver on this machine (this check needs a GPU)"
nvidia-smi || fail "nvidia-smi could not talk to a GPU"

echo "== torch"
"$PYTHON" - <<'PY' || fail "torch in $PYTHON cannot use CUDA (a CPU-only build? install a CUDA build of the same version, e.g. pip install torch==<version> --index-url https://download.pytorch.org/whl/cu126)"
import sys, torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, available: {torch.cuda.is_available()}")
if not torch.cuda.is_available():
    sys.exit(1)
print(f"GPU: {torch.cuda.get_device_name(0)}")
PY

echo "== tests/test_device.py (GPU tests must run, not skip)"
timeout 120 "$PYTHON" -m pytest tests/test_device.py -q -p no:cacheprovider -rs | tee /tmp/gpu_check_pytest.$$ \
  || fail "tests/test_device.py failed (see above)"
if grep -q "needs a CUDA GPU" /tmp/gpu_check_pytest.$$; then
  rm -f /tmp/gpu_check_pytest.$$; fail "GPU tests were skipped although CUDA is available"
fi
rm -f /tmp/gpu_check_pytest.$$

echo "== benchmarks at widths 1e5 and 1e6 on CUDA (train step, empirical_ntk)"
# torch.func runs at 5e4 and 1e5 (measured at m = 1e5, extrapolated linearly to 1e6: J alone is 24 GB there)
timeout 240 "$PYTHON" benchmarks/run_all.py --device cuda --only train,ntk --widths 1e5,1e6 \
  --ntk-widths 1e5,1e6 --func-widths 5e4,1e5 --out benchmarks/results-gpu.md \
  || fail "benchmarks/run_all.py --device cuda failed or ran over 240 s"
echo "== ratios"
grep '^| ' benchmarks/results-gpu.md | grep -E 'PASS|MISS' || true
echo "gpu_check: done (table in benchmarks/results-gpu.md)"
