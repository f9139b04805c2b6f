"""The python: kernel host through the bnconform command: good kernels are judged,
wrong ones are rejected with the Python error or the numeric failure, and bad
modules give one-line errors that name the module and the function."""
import re
from conftest import kernel, run

PROBLEM = "shape=4x3x5,dtype=f32,mode=train"


def test_a_correct_numpy_kernel_passes_check():
    status, out = run("check", "--kernel", kernel("numpy_kernel.py"), "--problem", PROBLEM,
                      "--level", "standard")
    assert status == 0, out
    assert "check: pass" in out


def test_a_correct_numpy_kernel_passes_the_coverage_group():
    status, out = run("certify", "--kernel", kernel("numpy_kernel.py"), "--level", "standard",
                      "--groups", "coverage", "--jobs", "1")
    assert re.search(r"^coverage +16 item\(s\): 16 pass, 0 fail", out, re.M), out


def test_certify_rejects_a_biased_running_variance_on_the_numbers():
    status, out = run("certify", "--kernel", kernel("biased_running_var.py"), "--level",
                      "standard", "--groups", "coverage", "--jobs", "1")
    assert status == 1, out
    assert "fail coverage/forward-training f32 channels_first" in out, out
    assert "running_var" in out, out


def test_certify_fails_a_raising_kernel_with_the_python_error():
    status, out = run("certify", "--kernel", kernel("raises.py"), "--groups", "coverage",
                      "--jobs", "1")
    assert status == 1, out
    assert "raises.py.forward raised ValueError: deliberately broken forward for shape=" in out, out
    assert "(raises.py:" in out, out


def test_check_reports_the_python_error_of_a_raising_kernel():
    status, out = run("check", "--kernel", kernel("raises.py"), "--problem", PROBLEM)
    assert status == 1, out
    assert "ValueError: deliberately broken forward" in out, out


def one_line_error(args, *expected):
    status, out = run(*args)
    assert status == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    for text in expected:
        assert text in lines[0], out


def test_a_module_that_does_not_exist():
    one_line_error(["check", "--kernel", "python:no_such_package.no_such_module", "--problem",
                    PROBLEM], "python kernel 'no_such_package.no_such_module'",
                   "ModuleNotFoundError: No module named 'no_such_package'")


def test_a_file_that_does_not_exist():
    one_line_error(["run", "--kernel", kernel("missing.py"), "--problem", PROBLEM],
                   "missing.py': no such file")


def test_a_module_without_forward():
    one_line_error(["check", "--kernel", kernel("no_forward.py"), "--problem", PROBLEM],
                   "no_forward.py'", "defines no forward(problem, x, ...)")


def test_an_unknown_dtype():
    one_line_error(["check", "--kernel", kernel("unknown_dtype.py"), "--problem", PROBLEM],
                   "unknown_dtype.py'", "capabilities['dtypes']: unknown dtype 'f8'")


def test_an_empty_module_name():
    one_line_error(["check", "--kernel", "python:", "--problem", PROBLEM], "names no module")


def wrong_return(eps, *expected):
    status, out = run("check", "--kernel", kernel("wrong_returns.py"), "--problem",
                      "shape=2x3x4,dtype=f32,mode=eval,eps=" + eps)
    assert status == 1, out
    for text in expected:
        assert text in out, out


def test_a_wrong_shape_is_a_failing_status():
    wrong_return("0.5", "internal_error",
                 "wrong_returns.py.forward returned y of shape (24,), expected (2, 3, 4)")


def test_a_wrong_dtype_is_a_failing_status():
    wrong_return("0.25", "wrong_returns.py.forward returned y of dtype float64, expected float32")


def test_a_result_that_is_no_dict_is_a_failing_status():
    wrong_return("0.125", "wrong_returns.py.forward returned ndarray, expected a dict of outputs")


def test_certify_says_why_a_module_cannot_be_loaded():
    status, out = run("certify", "--kernel", "python:no_such_module", "--groups", "coverage")
    assert status == 1, out
    assert "could not be loaded" in out and "No module named 'no_such_module'" in out, out
