#include "python_kernel.hpp"

#include <deque>
#include <filesystem>
#include <utility>

#include "calls.hpp"
#include "core/error.hpp"

namespace bnconform::python_host {

namespace {

bool names_a_file(const std::string& spec) {
  return spec.ends_with(".py") || spec.find('/') != std::string::npos;
}

py::object import_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) report_error("no such file");
  const py::module_ util = py::module_::import("importlib.util");
  const std::string name = std::filesystem::path(path).stem().string();
  const py::object spec = util.attr("spec_from_file_location")(name, path);
  if (spec.is_none()) report_error("not a Python source file");
  py::object module = util.attr("module_from_spec")(spec);
  py::module_::import("sys").attr("modules")[py::str(name)] = module;
  spec.attr("loader").attr("exec_module")(module);
  return module;
}

py::object function_of(const py::object& module, const char* name) {
  if (!py::hasattr(module, name)) return py::none();
  py::object f = module.attr(name);
  if (!PyCallable_Check(f.ptr())) report_error(std::string(name) + " is not a function");
  return f;
}

void load_into(python_kernel& k, const std::string& spec) {
  py::object module;
  try {
    if (names_a_file(spec)) {
      module = import_file(spec);
    } else {
      module = py::module_::import(spec.c_str());
    }
  } catch (py::error_already_set& e) {
    report_error("cannot import: " + python_error_line(e));
  }
  k.forward = function_of(module, "forward");
  if (k.forward.is_none()) report_error("the module defines no forward(problem, x, ...)");
  k.backward = function_of(module, "backward");
  if (!py::hasattr(module, "capabilities")) {
    report_error("the module defines no capabilities dict (impl/python/README.md)");
  }
  try {
    k.declared = read_capabilities(module.attr("capabilities"));
  } catch (py::error_already_set& e) {
    report_error("capabilities: " + python_error_line(e));
  }
  const std::uint32_t backward_ops = BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL;
  if ((k.declared.capabilities.operations & backward_ops) != 0 && k.backward.is_none()) {
    report_error(
        "capabilities declare backward operations, but the module defines no "
        "backward(problem, x, dy, ...)");
  }
}

}  // namespace

std::string python_error_line(const py::error_already_set& e) {
  try {
    const py::module_ traceback = py::module_::import("traceback");
    const py::list lines = traceback.attr("format_exception_only")(e.type(), e.value());
    std::string line =
        lines.empty() ? std::string("an exception") : std::string(py::str(lines[lines.size() - 1]));
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    for (char& ch : line) {
      if (ch == '\n') ch = ' ';
    }
    if (e.trace()) {
      const py::list frames = traceback.attr("extract_tb")(e.trace());
      if (!frames.empty()) {
        const py::object last = frames[frames.size() - 1];
        const std::string path = py::str(last.attr("filename"));
        // Frames of the import machinery ("<frozen importlib._bootstrap>") say nothing.
        if (!path.starts_with("<")) {
          line += " (" + std::filesystem::path(path).filename().string() + ":" +
                  std::string(py::str(last.attr("lineno"))) + ")";
        }
      }
    }
    return line;
  } catch (const py::error_already_set&) {
    return e.what();
  }
}

const python_kernel& load_python_kernel(const std::string& spec) {
  // Never destroyed: their Python objects must not be released at exit, when the
  // interpreter may no longer run.
  static auto* kernels = new std::deque<python_kernel>();
  const py::gil_scoped_acquire gil;
  python_kernel k;
  k.label = spec;
  try {
    load_into(k, spec);
  } catch (const error& e) {
    report_error("python kernel '" + spec + "': " + e.what());
  }
  python_kernel& kept = kernels->emplace_back(std::move(k));
  kept.description.abi_version = BNC_ABI_VERSION;
  kept.description.struct_size = sizeof(bnc_kernel);
  kept.description.name = kept.declared.name.c_str();
  kept.description.version = kept.declared.version.c_str();
  kept.description.capabilities = kept.declared.capabilities;
  kept.description.context = &kept;
  kept.description.forward = &python_forward;
  kept.description.backward = &python_backward;
  return kept;
}

}  // namespace bnconform::python_host
