"""torch.nn.functional.batch_norm (python3-torch) behind the kernel ABI.

The forward is one call of F.batch_norm, the backward autograd through it
(y.backward(dy)); the harness keeps the module state (keeps_module_state False:
the running-average factor arrives as `factor`, passed as F.batch_norm's
momentum). Eval without running statistics calls F.batch_norm with
training=True and no buffers, as the modules do.
"""
import torch
import torch.nn.functional as F

from bnconform_kernels.torch_arrays import saved_statistics, to_numpy, to_torch

capabilities = {
    "name": "torch-functional",
    "version": torch.__version__,
    "operations": ["forward-training", "forward-eval", "backward-training", "backward-eval"],
    # torch 1.13 has no f16 batch norm on the CPU.
    "dtypes": ["f64", "f32", "bf16"],
    "layouts": ["channels_first", "channels_last"],
    "ranks": (2, None),
    "keeps_module_state": False,
}


def _uses_batch_statistics(problem):
    return problem.mode == "train" or not problem.track_running_stats


def forward(problem, x, gamma, beta, running_mean, running_var, num_batches_tracked, factor):
    batch = _uses_batch_statistics(problem)
    xt = to_torch(x, requires_grad=batch)
    rm, rv = to_torch(running_mean), to_torch(running_var)
    y = F.batch_norm(xt, rm, rv, to_torch(gamma), to_torch(beta), training=batch,
                     momentum=0.0 if factor is None else factor, eps=problem.eps)
    out = {"y": to_numpy(y)}
    if batch:
        out["save_mean"], out["save_invstd"] = saved_statistics(y, problem.shape[1],
                                                                problem.stats_dtype)
    if problem.mode == "train" and problem.track_running_stats:
        out["running_mean"], out["running_var"] = to_numpy(rm), to_numpy(rv)
    return out


def backward(problem, x, dy, gamma, save_mean, save_invstd, running_mean, running_var):
    batch = _uses_batch_statistics(problem)
    xt = to_torch(x, requires_grad=True)
    weight = to_torch(gamma, requires_grad=True)
    bias = None if weight is None else torch.zeros_like(weight, requires_grad=True)
    rm, rv = (None, None) if batch else (to_torch(running_mean), to_torch(running_var))
    y = F.batch_norm(xt, rm, rv, weight, bias, training=batch, momentum=0.0, eps=problem.eps)
    y.backward(to_torch(dy))
    out = {"dx": to_numpy(xt.grad)}
    if weight is not None:
        out["dgamma"], out["dbeta"] = to_numpy(weight.grad), to_numpy(bias.grad)
    return out
