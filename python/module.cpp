// The `bnconform` Python module: the exact reference and the error model on numpy
// arrays (python/README.md).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "core/error.hpp"

PYBIND11_MODULE(bnconform, m) {
  m.doc() =
      "bnconform: the exact batch-normalization reference and its error model on numpy arrays. "
      "Data tensors have the logical shape (N, C, S1, ..., Sk); bf16 values are uint16 bit "
      "patterns.";
#ifdef BNCONFORM_VERSION
  m.attr("__version__") = BNCONFORM_VERSION;
#endif
  pybind11::register_exception<bnconform::error>(m, "Error", PyExc_ValueError);
  bnconform::python::bind_problem(m);
  bnconform::python::bind_oracle(m);
  bnconform::python::bind_check(m);
  bnconform::python::bind_golden(m);
}
