#!/usr/bin/env bash
# Everything a session lent a GPU checks, in one call (../shared/DEVICE.md): the machine, the tests marked
# gpu, fit() throughput on CUDA against its bare loops, and every lesson's verdict over seeds 0-14 with
# the workers on the GPU (other arithmetic than any CPU: a verdict must not depend on it).
# Writes each part's output under $OUT as it goes, so a run cut short still reports what it did.
#   bash benchmarks/gpu_check.sh [SEEDS]
# Besides the wheels ../shared/DEVICE.md lists, fastapi 0.165 needs opentelemetry-api and annotated-doc.
set -uo pipefail
out=${OUT:-/tmp/gpu-check}
seeds=${1:-15}
mkdir -p "$out"
# the server serves plotly.min.js from the plotly package; a placeholder will do for these checks
site=${PYTHONPATH%%:*}
if ! python3 -c "import plotly" 2>/dev/null && [ -n "$site" ]; then
  mkdir -p "$site/plotly/package_data" && touch "$site/plotly/__init__.py" "$site/plotly/package_data/plotly.min.js"
fi
{ nvidia-smi; python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"; } \
  2>&1 | tee "$out/machine.txt"
python3 -m pytest -m gpu -q -p no:cacheprovider tests/unit --ignore=tests/unit/test_groups.py \
  --ignore=tests/unit/test_spec_properties.py 2>&1 | tail -15 | tee "$out/pytest-gpu.txt"
timeout 100 python3 benchmarks/throughput.py --device cuda --repeats 3 --json "$out/throughput.json" 2>&1 \
  | tail -25 | tee "$out/throughput.txt"
TRAINSCOPE_DEVICE=cuda timeout 330 python3 benchmarks/lesson_seeds.py --seeds "$seeds" --workers 4 2>&1 \
  | tee "$out/lesson_seeds.txt"
