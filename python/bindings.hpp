#pragma once
// The parts of the `bnconform` Python module, one file each (module.cpp joins them).
#include <pybind11/pybind11.h>

#include "core/problem.hpp"

namespace bnconform::python {

namespace py = pybind11;

// A problem given as a bnconform.Problem or as its string.
problem problem_of(const py::handle& object);

void bind_problem(py::module_& m);  // problems.cpp: bnconform.Problem
void bind_oracle(py::module_& m);   // oracle.cpp: forward, backward, sequence, run_case
void bind_check(py::module_& m);    // verdicts.cpp: check
void bind_golden(py::module_& m);   // golden.cpp: load_golden

}  // namespace bnconform::python
