#pragma once
// A kernel written in Python: a module that defines forward(problem, x, ...),
// optionally backward(problem, x, dy, ...), and a `capabilities` dict
// (capabilities.hpp), served behind the ABI (impl/python/README.md).
#include <pybind11/pybind11.h>

#include <string>

#include "bnconform/kernel.h"
#include "capabilities.hpp"

namespace bnconform::python_host {

namespace py = pybind11;

struct python_kernel {
  std::string label;             // the module as named: "pkg.module" or "path/to/file.py"
  py::object forward, backward;  // backward is None when the module has none
  declared_kernel declared;
  bnc_kernel description{};
};

// Imports the module (a dotted name, or a file whose name ends in .py) in the
// running interpreter and reads its declaration. The kernel lives as long as the
// process. Throws bnconform::error with one line that names the module.
const python_kernel& load_python_kernel(const std::string& spec);

// "ValueError: boom (wrong.py:12)": the last line of the traceback, and where the
// exception was raised. Call with the GIL held.
std::string python_error_line(const py::error_already_set& e);

}  // namespace bnconform::python_host
