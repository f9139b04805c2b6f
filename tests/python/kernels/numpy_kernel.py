"""A plain numpy kernel for the python: host's tests: batch normalization in float64,
rounded once to the data's dtype (f64 and f32, both layouts, every operation; the
harness keeps the module state)."""
import numpy as np

capabilities = {
    "name": "numpy-test",
    "version": "1",
    "operations": ["forward-training", "forward-eval", "backward-training", "backward-eval"],
    "dtypes": ["f64", "f32"],
    "layouts": ["channels_first", "channels_last"],
}

STATS = {"f64": np.float64, "f32": np.float32}


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, ndim):
    return np.asarray(v, dtype=np.float64).reshape((1, -1) + (1,) * (ndim - 2))


def batch_statistics(x):
    """Mean and biased variance per channel, in float64 (NaN for an empty batch)."""
    xd = x.astype(np.float64)
    m = x.size // x.shape[1] if x.shape[1] else 0
    if m == 0:
        nan = np.full(x.shape[1], np.nan)
        return nan, nan.copy()
    mean = xd.mean(axis=_axes(x))
    var = ((xd - _per_channel(mean, x.ndim)) ** 2).mean(axis=_axes(x))
    return mean, var


def running_update(problem, x, mean, var, running_mean, running_var, factor):
    """PyTorch's update: the unbiased variance, weighted by `factor`."""
    m = x.size // x.shape[1]
    if m == 0:
        return running_mean.copy(), running_var.copy()
    unbiased = var * m / (m - 1)
    st = STATS[problem.dtype]
    return (((1 - factor) * running_mean + factor * mean).astype(st),
            ((1 - factor) * running_var + factor * unbiased).astype(st))


def forward(problem, x, gamma, beta, running_mean, running_var, num_batches_tracked, factor):
    st = STATS[problem.dtype]
    batch = problem.mode == "train" or not problem.track_running_stats
    with np.errstate(all="ignore"):
        if batch:
            mean, var = batch_statistics(x)
        else:
            mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
        invstd = 1.0 / np.sqrt(var + problem.eps)
        g = 1.0 if gamma is None else _per_channel(gamma, x.ndim)
        b = 0.0 if beta is None else _per_channel(beta, x.ndim)
        xhat = (x.astype(np.float64) - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
        out = {"y": (xhat * g + b).astype(x.dtype)}
        if batch:
            out["save_mean"], out["save_invstd"] = mean.astype(st), invstd.astype(st)
        if problem.mode == "train" and problem.track_running_stats:
            out["running_mean"], out["running_var"] = running_update(
                problem, x, mean, var, running_mean, running_var, factor)
    return out


def backward(problem, x, dy, gamma, save_mean, save_invstd, running_mean, running_var):
    st = STATS[problem.dtype]
    batch = problem.mode == "train" or not problem.track_running_stats
    axes = _axes(x)
    with np.errstate(all="ignore"):
        if batch:
            mean, invstd = save_mean.astype(np.float64), save_invstd.astype(np.float64)
        else:
            mean = running_mean.astype(np.float64)
            invstd = 1.0 / np.sqrt(running_var.astype(np.float64) + problem.eps)
        xhat = (x.astype(np.float64) - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
        dyd = dy.astype(np.float64)
        g = np.ones(x.shape[1]) if gamma is None else gamma.astype(np.float64)
        dbeta, dgamma = dyd.sum(axis=axes), (dyd * xhat).sum(axis=axes)
        scale = _per_channel(g * invstd, x.ndim)
        if batch:
            m = x.size // x.shape[1] if x.shape[1] else 0
            dx = scale * (dyd - _per_channel(dbeta / max(m, 1), x.ndim)
                          - xhat * _per_channel(dgamma / max(m, 1), x.ndim))
        else:
            dx = scale * dyd
        out = {"dx": dx.astype(x.dtype)}
        if gamma is not None:
            out["dgamma"], out["dbeta"] = dgamma.astype(st), dbeta.astype(st)
    return out
