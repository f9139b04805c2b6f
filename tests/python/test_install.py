"""`import bnconform` after `cmake --install`: the module lands in the interpreter's
package directory under the prefix (python/CMakeLists.txt) and imports from there;
the installed command finds the installed Python kernels."""
import os
import pathlib
import subprocess
import sys

import pytest


def test_the_installed_module_imports_and_the_installed_host_finds_its_kernels(tmp_path):
    build = os.environ.get("BNCONFORM_BUILD_DIR")
    relative = os.environ.get("BNCONFORM_PYTHON_INSTALL_DIR")
    if not build or not relative:
        pytest.skip("BNCONFORM_BUILD_DIR is not set: run through ctest")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], check=True,
                   capture_output=True, text=True)
    packages = prefix / relative
    env = dict(os.environ, PYTHONPATH=str(packages))
    done = subprocess.run([sys.executable, "-c", "import bnconform; print(bnconform.__file__)"],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert pathlib.Path(done.stdout.strip()).parent == packages
    kernels = prefix / "share" / "bnconform" / "python" / "bnconform_kernels"
    assert (kernels / "torch_functional.py").is_file()
    # The installed command and host, away from the build tree.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BNCONFORM")}
    done = subprocess.run([str(prefix / "bin" / "bnconform"), "check", "--kernel",
                           "python:no_such_module", "--problem", "shape=2x3"],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "No module named 'no_such_module'" in done.stderr, done.stderr
