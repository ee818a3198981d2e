"""The code base is ruff-clean (rules and line length in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_is_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    completed = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT,
                               capture_output=True, text=True)
    assert completed.returncode == 0, f"ruff finds problems:\n{completed.stdout}{completed.stderr}"
