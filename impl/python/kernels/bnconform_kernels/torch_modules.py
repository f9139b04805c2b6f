"""torch.nn.BatchNorm1d, 2d and 3d (python3-torch) behind the kernel ABI.

Each call builds the module for the problem's rank (1d for ranks 2 and 3, 2d for
4, 3d for 5) with the problem's eps, momentum (None included), affine and
track_running_stats, loads the caller's parameters, running statistics and
num_batches_tracked, and calls it in train() or eval() mode. The module keeps its
own state (keeps_module_state True): it increments num_batches_tracked and derives
momentum=None's factor from it, and the kernel returns the new counter. The
backward is autograd through the module's forward.
"""
import torch

from bnconform_kernels.torch_arrays import TORCH_DTYPES, saved_statistics, to_numpy, to_torch

capabilities = {
    "name": "torch-modules",
    "version": torch.__version__,
    "operations": ["forward-training", "forward-eval", "backward-training", "backward-eval"],
    "dtypes": ["f64", "f32", "bf16"],
    "layouts": ["channels_first", "channels_last"],
    "ranks": (2, 5),
    "keeps_module_state": True,
}

_MODULES = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
            5: torch.nn.BatchNorm3d}


def _module(problem, gamma, beta, running_mean, running_var, num_batches_tracked):
    module = _MODULES[len(problem.shape)](
        problem.shape[1], eps=problem.eps, momentum=problem.momentum, affine=problem.affine,
        track_running_stats=problem.track_running_stats,
        dtype=TORCH_DTYPES[problem.stats_dtype])
    with torch.no_grad():
        if problem.affine:
            module.weight.copy_(to_torch(gamma))
            module.bias.copy_(to_torch(beta))
        if problem.track_running_stats and running_mean is not None:
            module.running_mean.copy_(to_torch(running_mean))
            module.running_var.copy_(to_torch(running_var))
            module.num_batches_tracked.fill_(num_batches_tracked)
    return module.train(problem.mode == "train")


def forward(problem, x, gamma, beta, running_mean, running_var, num_batches_tracked, factor):
    module = _module(problem, gamma, beta, running_mean, running_var, num_batches_tracked)
    batch = problem.mode == "train" or not problem.track_running_stats
    y = module(to_torch(x, requires_grad=batch))
    out = {"y": to_numpy(y)}
    if batch:
        out["save_mean"], out["save_invstd"] = saved_statistics(y, problem.shape[1],
                                                                problem.stats_dtype)
    if problem.track_running_stats:
        out["running_mean"] = to_numpy(module.running_mean)
        out["running_var"] = to_numpy(module.running_var)
        out["num_batches_tracked"] = int(module.num_batches_tracked)
    return out


def backward(problem, x, dy, gamma, save_mean, save_invstd, running_mean, running_var):
    beta = None if gamma is None else gamma * 0
    module = _module(problem, gamma, beta, running_mean, running_var, 0)
    xt = to_torch(x, requires_grad=True)
    module(xt).backward(to_torch(dy))
    out = {"dx": to_numpy(xt.grad)}
    if problem.affine:
        out["dgamma"], out["dbeta"] = to_numpy(module.weight.grad), to_numpy(module.bias.grad)
    return out
