#!/usr/bin/env bash
# Installs what Trainscope needs into .venv (idempotent; re-runs only when pyproject.toml changes).
#   scripts/setup.sh          the app
#   scripts/setup.sh test     the app, the test tools, Debian's chromium, docker-compose and postgresql
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
python=${PYTHON:-python3}

if [ "$extra" = "test" ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  # PostgreSQL's server, for the store's contract tests and the live API run against it
  command -v pg_ctl >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
  # a Korean font, so that screenshots of the page in Korean show letters, not boxes
  [ -d /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# pip's own exit status survives the filter (pipefail); the filter only hides this machine's
# notes about missing local package folders.
pip_install() { .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
hash=$(sha256sum pyproject.toml | cut -c1-12)
stamp=".venv/.installed-$hash-${extra:-app}"
if [ ! -f "$stamp" ] && [ ! -f ".venv/.installed-$hash-test" ]; then  # the test install covers the app
  echo "installing Python packages into .venv (first run takes a few minutes)"
  pip_install --upgrade pip
  # torch first and pinned: this takes the CPU build; an unpinned torch may pull a multi-GB CUDA build.
  pip_install "torch==2.13.0"
  target=".[server]"; [ "$extra" = "test" ] && target=".[dev]"
  pip_install -e "$target"
  .venv/bin/python -c "import torch, trainscope" # fail here, clearly, if the install did not work
  find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash-*" -delete
  touch "$stamp"
fi
