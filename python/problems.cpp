// bnconform.Problem: the problem value and its canonical string.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "core/dtype.hpp"

namespace bnconform::python {

problem problem_of(const py::handle& object) {
  if (py::isinstance<problem>(object)) return object.cast<problem>();
  if (py::isinstance<py::str>(object)) return problem::parse(object.cast<std::string>());
  throw py::type_error("problem: expected a bnconform.Problem or a problem string, got " +
                       std::string(py::str(py::type::of(object).attr("__name__"))));
}

void bind_problem(py::module_& m) {
  py::class_<problem>(m, "Problem",
                      "A batch-normalization problem: an immutable value with a canonical string "
                      "(README, 'Problems'), e.g. Problem('shape=8x3x4x4,dtype=f32,mode=train').")
      .def(py::init([](const std::string& text) { return problem::parse(text); }), py::arg("text"))
      .def("__str__", &problem::to_string)
      .def("__repr__",
           [](const problem& p) { return "bnconform.Problem('" + p.to_string() + "')"; })
      .def("__eq__", &problem::operator==)
      .def("__hash__", [](const problem& p) { return py::hash(py::str(p.to_string())); })
      .def_property_readonly("shape",
                             [](const problem& p) {
                               py::tuple t(p.shape().size());
                               for (std::size_t d = 0; d < p.shape().size(); ++d)
                                 t[d] = p.shape()[d];
                               return t;
                             })
      .def_property_readonly("layout", [](const problem& p) { return name_of(p.layout()); })
      .def_property_readonly("dtype", [](const problem& p) { return name_of(p.data_type()); })
      .def_property_readonly("stats_dtype",
                             [](const problem& p) { return name_of(p.stats_type()); })
      .def_property_readonly("mode", [](const problem& p) { return name_of(p.mode()); })
      .def_property_readonly("eps", &problem::eps)
      .def_property_readonly("momentum", [](const problem& p) { return p.momentum(); })
      .def_property_readonly("affine", &problem::affine)
      .def_property_readonly("track_running_stats", &problem::track_running_stats)
      .def_property_readonly("profile", [](const problem& p) { return name_of(p.profile()); })
      .def_property_readonly("channels", &problem::channels)
      .def_property_readonly("reduction_size", &problem::reduction_size)
      .def_property_readonly("uses_batch_statistics", &problem::uses_batch_statistics)
      .def(
          "with_mode",
          [](const problem& p, const std::string& mode_name) {
            if (mode_name == "train") return p.with_mode(mode::training);
            if (mode_name == "eval") return p.with_mode(mode::eval);
            throw py::value_error("mode: unknown '" + mode_name + "' (expected train or eval)");
          },
          py::arg("mode"), "The same problem in mode 'train' or 'eval'.");
}

}  // namespace bnconform::python
