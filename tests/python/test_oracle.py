"""The bnconform module: the exact reference and the error model on numpy arrays."""
import pathlib

import numpy as np
import pytest

import bnconform

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "cases"


def data(problem, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(bnconform.Problem(problem).shape).astype(np.float32)


def float64_batch_norm(x, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    xd = x.astype(np.float64)
    mean = xd.mean(axis=axes, keepdims=True)
    var = ((xd - mean) ** 2).mean(axis=axes, keepdims=True)
    return (xd - mean) / np.sqrt(var + eps)


def test_problem_strings_parse_to_their_canonical_form():
    p = bnconform.Problem("shape=2x3x4,dtype=bf16,layout=nlc")
    assert p.shape == (2, 3, 4)
    assert (p.dtype, p.stats_dtype, p.layout, p.mode) == ("bf16", "f32", "channels_last", "train")
    assert p.momentum == 0.1 and bnconform.Problem(str(p)) == p
    assert bnconform.Problem("shape=2x3,momentum=none").momentum is None
    assert p.with_mode("eval").mode == "eval"
    with pytest.raises(bnconform.Error, match="layout: unknown 'diagonal'"):
        bnconform.Problem("shape=2x3,layout=diagonal")


def test_forward_is_the_correctly_rounded_batch_norm():
    problem = "shape=4x3x5x2,dtype=f32"
    x = data(problem)
    r = bnconform.forward(problem, x)
    assert r["y"].dtype == np.float32 and r["y"].shape == x.shape
    np.testing.assert_allclose(r["y"], float64_batch_norm(x, 1e-5), rtol=1e-6, atol=1e-6)
    assert r["num_batches_tracked"] == 1
    m = 4 * 5 * 2
    unbiased = x.astype(np.float64).var(axis=(0, 2, 3)) * m / (m - 1)
    np.testing.assert_allclose(r["running_var"], 0.9 + 0.1 * unbiased, rtol=1e-6)


def test_channels_last_arrays_keep_the_logical_shape():
    x = data("shape=4x3x5x2")
    first = bnconform.forward("shape=4x3x5x2,layout=nchw", x)
    last = bnconform.forward("shape=4x3x5x2,layout=nhwc", x)
    assert last["y"].shape == (4, 3, 5, 2)
    assert last["y"].strides[1] == 4  # C varies fastest in memory
    np.testing.assert_array_equal(first["y"], last["y"])


def test_bf16_values_are_uint16_bit_patterns():
    x = (data("shape=4x3x5").view(np.uint32) >> 16).astype(np.uint16)
    r = bnconform.forward("shape=4x3x5,dtype=bf16", x)
    assert r["y"].dtype == np.uint16 and r["save_mean"].dtype == np.float32
    with pytest.raises(TypeError, match=r"x: expected dtype uint16 \(bf16\), got float32"):
        bnconform.forward("shape=4x3x5,dtype=bf16", data("shape=4x3x5"))


def test_wrong_inputs_are_errors_that_name_them():
    with pytest.raises(ValueError, match=r"x: expected shape \(4, 3, 5\), got \(4, 3\)"):
        bnconform.forward("shape=4x3x5", np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="gamma: the problem has no gamma"):
        bnconform.forward("shape=4x3,affine=false", data("shape=4x3"),
                          gamma=np.ones(3, np.float32))
    with pytest.raises(bnconform.Error, match="invalid_problem: Expected more than 1 value per channel"):
        bnconform.forward("shape=1x3", data("shape=1x3"))


def test_backward_gives_dx_dgamma_dbeta():
    problem = "shape=4x3x5,dtype=f64"
    x = data(problem).astype(np.float64)
    dy = data(problem, seed=2).astype(np.float64)
    r = bnconform.backward(problem, x, dy)
    np.testing.assert_allclose(r["dbeta"], dy.sum(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(r["dx"].sum(axis=(0, 2)), 0, atol=1e-12)


def test_a_sequence_shares_the_module_state():
    problem = "shape=4x3,momentum=none"
    xs = [data(problem, seed=s) for s in (1, 2, 3)]
    steps = [{"op": "forward", "x": x} for x in xs] + [{"op": "forward", "x": xs[0],
                                                         "mode": "eval"}]
    results = bnconform.sequence(problem, steps)
    assert [r["num_batches_tracked"] for r in results] == [1, 2, 3, 3]
    means = np.array([x.astype(np.float64).mean(axis=0) for x in xs])
    np.testing.assert_allclose(results[2]["running_mean"], means.mean(axis=0), rtol=1e-6)


def test_check_passes_the_exact_answer_and_names_the_worst_output():
    problem = "shape=4x3x5,dtype=f32"
    x = data(problem)
    exact = bnconform.forward(problem, x)
    outputs = {k: exact[k] for k in ("y", "save_mean", "save_invstd", "running_mean",
                                     "running_var")}
    v = bnconform.check(problem, {"x": x}, outputs)
    assert v.passed and v.verdict == "pass" and v.worst_ratio == 0
    assert set(v.ratios) >= {"y", "save_mean", "save_invstd", "running_mean", "running_var"}
    float32_y = float64_batch_norm(x, 1e-5).astype(np.float32)
    v = bnconform.check(problem, {"x": x}, dict(outputs, y=float32_y))
    assert v.passed and v.ratios["save_mean"] == 0 and 0 <= v.ratios["y"] < 1


def test_check_fails_a_wrong_output_with_its_ratio():
    problem = "shape=4x3x5,dtype=f32"
    x = data(problem)
    exact = bnconform.forward(problem, x)
    outputs = {k: exact[k] for k in ("y", "save_mean", "save_invstd", "running_mean",
                                     "running_var")}
    biased = outputs["running_var"] - np.float32(0.01)
    v = bnconform.check(problem, {"x": x}, dict(outputs, running_var=biased), level="standard")
    assert not v.passed and v.verdict == "fail"
    assert v.worst_output == "running_var" and v.ratios["running_var"] > 1
    assert v.ratios["y"] == 0
    assert "running_var" in v.reason


def test_check_judges_a_backward_call():
    problem = "shape=4x3x5,dtype=f32"
    x, dy = data(problem), data(problem, seed=2)
    exact = bnconform.backward(problem, x, dy)
    v = bnconform.check(problem, {"x": x, "dy": dy},
                        {k: exact[k] for k in ("dx", "dgamma", "dbeta")})
    assert v.passed and set(v.ratios) == {"dx", "dgamma", "dbeta"}
    with pytest.raises(ValueError, match="outputs: unknown key 'dgama'"):
        bnconform.check(problem, {"x": x, "dy": dy}, {"dx": exact["dx"], "dgama": 0})


def test_golden_files_load_with_their_exact_outputs():
    path = sorted(GOLDEN.rglob("*.json"))[0]
    g = bnconform.load_golden(str(path))
    assert g["name"] and len(g["steps"]) == len(g["expected"])
    first, expected = g["steps"][0], g["expected"][0]
    if first["op"] == "forward" and expected["status"] == "ok":
        r = bnconform.sequence(first["problem"], [dict(op="forward", x=first["x"])],
                               **g["state"])
        np.testing.assert_array_equal(r[0]["y"], expected["outputs"]["y"])
    with pytest.raises(bnconform.Error, match="no-such-file.json"):
        bnconform.load_golden("no-such-file.json")


def test_case_files_run_through_the_reference():
    cases = pathlib.Path(__file__).resolve().parents[2] / "examples"
    files = sorted(cases.rglob("*.json"))
    if not files:
        pytest.skip("no example case files")
    steps = bnconform.run_case(str(files[0]))
    assert steps and all("status" in s for s in steps)
