"""Deliberately wrong: numpy_kernel with the biased variance in running_var (the
mutant zoo's classic), which certify must reject on the numbers."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy_kernel  # noqa: E402

capabilities = dict(numpy_kernel.capabilities, name="numpy-biased-running-var")
backward = numpy_kernel.backward


def forward(problem, x, gamma, beta, running_mean, running_var, num_batches_tracked, factor):
    out = numpy_kernel.forward(problem, x, gamma, beta, running_mean, running_var,
                               num_batches_tracked, factor)
    if "running_var" in out:
        _, var = numpy_kernel.batch_statistics(x)
        out["running_var"] = ((1 - factor) * running_var + factor * var).astype(running_var.dtype)
    return out
