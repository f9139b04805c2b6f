#pragma once
// The caller's buffers as numpy arrays, without a copy: data tensors in the
// logical shape (N, C, S1, ..., Sk) with the layout's strides, per-channel tensors
// as 1-D arrays of C. bf16 is uint16 (its bit patterns: numpy has no bfloat16).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "core/problem.hpp"

namespace bnconform::python_host {

namespace py = pybind11;

py::dtype numpy_dtype(dtype t);
// Read-only views of inputs; a NULL pointer gives None.
py::object input_data(const problem& p, const void* data);
py::object input_channels(const problem& p, const void* data);
// Writable views of outputs.
py::array output_data(const problem& p, void* data);
py::array output_channels(const problem& p, void* data);

// The problem as the Python function sees it: a types.SimpleNamespace of shape,
// layout, dtype, stats_dtype, mode ("train" or "eval"), eps, momentum (None for
// momentum=None), affine, track_running_stats, profile and string (canonical).
py::object problem_namespace(const problem& p);

}  // namespace bnconform::python_host
