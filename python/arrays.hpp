#pragma once
// Tensors of a problem as numpy arrays, and back. A data tensor (x, y, dy, dx) is an
// array of the logical shape (N, C, S1, ..., Sk) whatever the layout; the arrays
// this module returns are views with the layout's strides (channels-last: C varies
// fastest in memory). Per-channel tensors are 1-D arrays of C values. Element types
// map one to one: f64 float64, f32 float32, f16 float16, bf16 uint16 (the bit
// patterns: numpy has no bfloat16). No value is ever converted: an array of another
// dtype or shape is an error that names it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bnconform::python {

namespace py = pybind11;

// The numpy dtype that holds values of t.
py::dtype numpy_dtype(dtype t);

// A data tensor of p in its memory order. Throws py::value_error ("x: ...") for a
// wrong shape and py::type_error for a wrong dtype.
tensor data_tensor(const problem& p, const py::handle& array, const std::string& name);
// A per-channel tensor of C values of p's statistics dtype.
tensor channel_tensor(const problem& p, const py::handle& array, const std::string& name);

// The arrays of tensors held in memory order (copies: they outlive the tensor).
py::array data_array(const problem& p, const tensor& t);
py::array channel_array(const tensor& t);
// The values of an output of the reference, rounded to t.
py::array rounded_data_array(const problem& p, dtype t, const std::vector<double>& values);
py::array rounded_channel_array(dtype t, const std::vector<double>& values);

}  // namespace bnconform::python
