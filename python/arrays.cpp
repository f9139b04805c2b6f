#include "arrays.hpp"

#include <cstring>
#include <vector>

namespace bnconform::python {

namespace {

py::module_ numpy() { return py::module_::import("numpy"); }

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "(";
  for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

py::array checked(const py::handle& object, dtype t, std::span<const std::int64_t> shape,
                  const std::string& name) {
  if (!py::isinstance<py::array>(object)) {
    throw py::type_error(name + ": expected a numpy array of " +
                         std::string(py::str(numpy_dtype(t))) + ", got " +
                         std::string(py::str(py::type::of(object).attr("__name__"))));
  }
  const auto a = py::reinterpret_borrow<py::array>(object);
  if (!a.dtype().equal(numpy_dtype(t))) {
    throw py::type_error(name + ": expected dtype " + std::string(py::str(numpy_dtype(t))) + " (" +
                         std::string(name_of(t)) + "), got " + std::string(py::str(a.dtype())));
  }
  bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (std::size_t d = 0; same && d < shape.size(); ++d) {
    same = a.shape(static_cast<py::ssize_t>(d)) == shape[d];
  }
  if (!same) {
    throw py::value_error(name + ": expected shape " + shape_text(shape) + ", got " +
                          shape_text(a));
  }
  return a;
}

// The bytes of a C-contiguous array into a fresh tensor.
tensor copied(const py::array& contiguous, dtype t, std::int64_t count) {
  tensor out(t, count);
  if (out.byte_size() != 0) std::memcpy(out.data(), contiguous.data(), out.byte_size());
  return out;
}

// Memory order (N, S1, ..., Sk, C) of channels-last, as an array of that shape.
std::vector<py::ssize_t> memory_shape(const problem& p) {
  std::vector<py::ssize_t> shape(p.shape().begin(), p.shape().end());
  if (p.layout() == layout::channels_last && shape.size() > 2) {
    const py::ssize_t c = shape[1];
    shape.erase(shape.begin() + 1);
    shape.push_back(c);
  }
  return shape;
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

tensor data_tensor(const problem& p, const py::handle& array, const std::string& name) {
  py::array a = checked(array, p.data_type(), p.shape(), name);
  if (p.layout() == layout::channels_last && p.rank() > 2) a = numpy().attr("moveaxis")(a, 1, -1);
  const py::array contiguous = numpy().attr("ascontiguousarray")(a);
  return copied(contiguous, p.data_type(), p.element_count());
}

tensor channel_tensor(const problem& p, const py::handle& array, const std::string& name) {
  const std::int64_t c = p.channels();
  const py::array a = checked(array, p.stats_type(), std::span<const std::int64_t>(&c, 1), name);
  const py::array contiguous = numpy().attr("ascontiguousarray")(a);
  return copied(contiguous, p.stats_type(), c);
}

py::array data_array(const problem& p, const tensor& t) {
  py::array memory(numpy_dtype(t.type()), memory_shape(p));
  if (t.byte_size() != 0) std::memcpy(memory.mutable_data(), t.data(), t.byte_size());
  if (p.layout() == layout::channels_last && p.rank() > 2) {
    return numpy().attr("moveaxis")(memory, -1, 1);
  }
  return memory;
}

py::array channel_array(const tensor& t) {
  py::array out(numpy_dtype(t.type()), std::vector<py::ssize_t>{t.size()});
  if (t.byte_size() != 0) std::memcpy(out.mutable_data(), t.data(), t.byte_size());
  return out;
}

py::array rounded_data_array(const problem& p, dtype t, const std::vector<double>& values) {
  return data_array(p, tensor::from_values(t, values));
}

py::array rounded_channel_array(dtype t, const std::vector<double>& values) {
  return channel_array(tensor::from_values(t, values));
}

}  // namespace bnconform::python
