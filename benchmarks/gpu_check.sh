#!/usr/bin/env bash
# Everything a session lent a GPU checks, in one call (../shared/DEVICE.md): the machine, the tests marked
# gpu (CUDA training, the CUDA-graph step against the eager one, devices bound by TRAINSCOPE_DEVICES, NVML
# figures, a step's peak against the memory estimate), fit() throughput on CUDA (the graph against the same
# fit stepped eagerly) and on this machine's CPU (every default problem at least as fast on the GPU), N
# jobs sharing the GPU against one, and every lesson's verdict over seeds 0-14 with the workers
# on the GPU (other arithmetic than any CPU: a verdict must not depend on it).
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
timeout 60 python3 benchmarks/throughput.py --device cpu --repeats 1 --json "$out/throughput-cpu.json" 2>&1 \
  | tail -25 | tee "$out/throughput-cpu.txt"
timeout 90 python3 benchmarks/gpu_share.py --device cuda --jobs 1 4 8 --json "$out/gpu_share.json" 2>&1 \
  | tail -10 | tee "$out/gpu_share.txt"
TRAINSCOPE_DEVICE=cuda timeout 250 python3 benchmarks/lesson_seeds.py --seeds "$seeds" --workers 4 2>&1 \
  | tee "$out/lesson_seeds.txt"
