"""What the Python tests share: the bnconform command and the repository's paths.

ctest (tests/python/CMakeLists.txt) sets BNCONFORM (the command), PYTHONPATH (the
build tree's python/, where the bnconform module is) and BNCONFORM_BUILD_DIR.
"""
import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
KERNELS = SOURCE_DIR / "tests" / "python" / "kernels"


def command():
    path = os.environ.get("BNCONFORM")
    if not path:
        pytest.skip("BNCONFORM (the bnconform command) is not set: run through ctest")
    return path


def run(*args, timeout=600):
    """Runs bnconform; returns (exit status, stdout + stderr)."""
    done = subprocess.run([command(), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=SOURCE_DIR)
    return done.returncode, done.stdout + done.stderr


def kernel(name):
    """--kernel for a test kernel file in tests/python/kernels."""
    return "python:" + str(KERNELS / name)
