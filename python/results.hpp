#pragma once
// What the reference and case runs return, as Python values: dicts of numpy
// arrays keyed by output name ("y", "save_mean", "dx", ...; arrays.hpp).
#include <pybind11/pybind11.h>

#include <vector>

#include "core/case_runner.hpp"
#include "core/kernel.hpp"
#include "reference/call.hpp"

namespace bnconform::python {

namespace py = pybind11;

// Module state from keyword arguments: PyTorch's initial state where one is None.
// Throws py::value_error for a tensor the problem does not have.
module_state state_from(const problem& p, const py::object& gamma, const py::object& beta,
                        const py::object& running_mean, const py::object& running_var,
                        std::int64_t num_batches_tracked);
// gamma, beta, running_mean, running_var (those the problem has), num_batches_tracked.
py::dict state_dict(const problem& p, const module_state& s);

py::dict forward_dict(const problem& p, const reference::forward_result& r);
py::dict backward_dict(const problem& p, const reference::backward_result& r);
// Named tensors in memory order (a case run's outputs); x, y, dy, dx are data tensors.
py::dict named_dict(const problem& p, const std::vector<named_tensor>& tensors);
// One step of a case run: op, problem, status, message, outputs, and for forward
// steps the state after it.
py::dict step_dict(const step_result& s);

}  // namespace bnconform::python
