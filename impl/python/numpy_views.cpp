#include "numpy_views.hpp"

#include <vector>

namespace bnconform::python_host {

namespace {

std::vector<py::ssize_t> byte_strides(const problem& p) {
  std::vector<py::ssize_t> strides;
  const auto width = static_cast<py::ssize_t>(size_of(p.data_type()));
  for (const std::int64_t s : p.element_strides()) strides.push_back(s * width);
  return strides;
}

py::array data_view(const problem& p, const void* data) {
  const std::vector<py::ssize_t> shape(p.shape().begin(), p.shape().end());
  // A base object keeps pybind11 from copying: the array views the caller's memory.
  return py::array(numpy_dtype(p.data_type()), shape, byte_strides(p), data, py::none());
}

py::array channel_view(const problem& p, const void* data) {
  return py::array(numpy_dtype(p.stats_type()), std::vector<py::ssize_t>{p.channels()},
                   std::vector<py::ssize_t>{static_cast<py::ssize_t>(size_of(p.stats_type()))},
                   data, py::none());
}

py::object read_only(py::array a) {
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

}  // namespace

py::dtype numpy_dtype(dtype t) {
  switch (t) {
    case dtype::f64: return py::dtype("float64");
    case dtype::f32: return py::dtype("float32");
    case dtype::f16: return py::dtype("float16");
    case dtype::bf16: return py::dtype("uint16");
  }
  return py::dtype("float64");
}

py::object input_data(const problem& p, const void* data) {
  return data == nullptr ? py::none() : read_only(data_view(p, data));
}

py::object input_channels(const problem& p, const void* data) {
  return data == nullptr ? py::none() : read_only(channel_view(p, data));
}

py::array output_data(const problem& p, void* data) { return data_view(p, data); }

py::array output_channels(const problem& p, void* data) { return channel_view(p, data); }

py::object problem_namespace(const problem& p) {
  py::tuple shape(p.shape().size());
  for (std::size_t d = 0; d < p.shape().size(); ++d) shape[d] = p.shape()[d];
  py::object momentum = py::none();
  if (p.momentum()) momentum = py::float_(*p.momentum());
  return py::module_::import("types").attr("SimpleNamespace")(
      py::arg("shape") = shape, py::arg("layout") = std::string(name_of(p.layout())),
      py::arg("dtype") = std::string(name_of(p.data_type())),
      py::arg("stats_dtype") = std::string(name_of(p.stats_type())),
      py::arg("mode") = std::string(name_of(p.mode())), py::arg("eps") = p.eps(),
      py::arg("momentum") = momentum, py::arg("affine") = p.affine(),
      py::arg("track_running_stats") = p.track_running_stats(),
      py::arg("profile") = std::string(name_of(p.profile())), py::arg("string") = p.to_string());
}

}  // namespace bnconform::python_host
