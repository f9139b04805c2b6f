"""Bad output: what forward returns depends on the problem's eps (tests pick it):
eps=0.5 a y of the wrong shape, eps=0.25 the wrong dtype, eps=0.125 no dict."""
import numpy as np

capabilities = {"name": "wrong-returns", "operations": ["forward-eval"], "dtypes": ["f32"],
                "layouts": ["channels_first"]}


def forward(problem, x, **unused):
    if problem.eps == 0.5:
        return {"y": x.reshape(-1).copy()}
    if problem.eps == 0.25:
        return {"y": x.astype(np.float64)}
    return x.copy()
