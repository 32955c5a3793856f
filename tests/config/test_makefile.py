"""The Makefile's promises, read from what `make -n` would run on a machine without .venv."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(target: str, tmp_path) -> str:
    result = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    return result.stdout


def test_make_run_installs_the_runtime_dependencies_only(tmp_path):
    commands = planned("run", tmp_path)
    assert "pip install --quiet -e ." in commands
    assert "[test]" not in commands


def test_make_test_and_lint_install_the_test_tools(tmp_path):
    for target in ("test", "lint"):
        assert "pip install --quiet -e '.[test]'" in planned(target, tmp_path)
    assert "lint-imports" in planned("lint", tmp_path)
