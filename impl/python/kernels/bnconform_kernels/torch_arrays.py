"""numpy arrays of the kernel host as torch tensors and back, strides kept.

The host hands over read-only views of the caller's buffers in the logical shape
(N, C, S1, ..., Sk) with the layout's strides (bf16 as uint16 bit patterns); torch
wants writable memory, so each input is copied once, in the same memory order:
a channels-last array stays a channels-last tensor (torch.channels_last for rank 4,
channels_last_3d for rank 5).
"""
import numpy as np
import torch

TORCH_DTYPES = {"f64": torch.float64, "f32": torch.float32, "bf16": torch.bfloat16}


def to_torch(array, requires_grad=False):
    """A tensor holding a copy of `array` (None stays None)."""
    if array is None:
        return None
    copy = array.copy(order="K")
    if copy.dtype == np.uint16:
        tensor = torch.from_numpy(copy.view(np.int16)).view(torch.bfloat16)
    else:
        tensor = torch.from_numpy(copy)
    return tensor.requires_grad_(requires_grad)


def to_numpy(tensor):
    """The values of a tensor as the host expects them (bf16 as uint16)."""
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


def saved_statistics(y, channels, stats_dtype):
    """save_mean and save_invstd of the batch-norm call that made `y`.

    Neither F.batch_norm nor the modules return them; autograd keeps them on the
    backward node of native_batch_norm (`_saved_result1`, `_saved_result2`). Where
    torch computed no statistics (an empty batch: at::batch_norm returns before the
    kernel) they are NaN, the 0 / 0 of semantics.md.
    """
    node = y.grad_fn
    while node is not None and not hasattr(node, "_saved_result1"):
        node = node.next_functions[0][0] if node.next_functions else None
    if node is None:
        nan = np.full(channels, np.nan, dtype=np.float64 if stats_dtype == "f64" else np.float32)
        return nan, nan.copy()
    return to_numpy(node._saved_result1), to_numpy(node._saved_result2)
