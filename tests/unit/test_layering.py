"""training/ is plain PyTorch: importing it pulls in no web, async or storage module."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "trainscope.api", "trainscope.store", "trainscope.jobs")


def test_training_imports_no_web_layer() -> None:
    code = (
        "import sys, trainscope.training.driver, trainscope.training.probes;"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_server_modules_do_not_import_torch() -> None:
    """The server process stays light: torch lives in the workers."""
    code = "import sys, trainscope.app; print('torch' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"
