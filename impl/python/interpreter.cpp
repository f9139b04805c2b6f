#include "interpreter.hpp"

#include <dlfcn.h>
#include <pybind11/embed.h>

#include <filesystem>

#if !defined(BNCONFORM_INSTALLED_PYTHON_KERNELS) || !defined(BNCONFORM_BUILD_TREE_PYTHON_KERNELS)
#error "impl/python/CMakeLists.txt defines where the Python kernels lie, relative to the plugin"
#endif

namespace bnconform::python_host {

namespace py = pybind11;

namespace {

// libpython, loaded with this plugin RTLD_LOCAL, made global: C extension modules
// are not linked against libpython and expect its symbols in the global scope.
void make_libpython_global() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&Py_IsInitialized), &info) != 0 && info.dli_fname != nullptr) {
    (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  }
}

}  // namespace

std::string package_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&package_directory), &info) == 0 ||
      info.dli_fname == nullptr) {
    return {};
  }
  const std::filesystem::path plugin = std::filesystem::path(info.dli_fname).parent_path();
  for (const char* relative :
       {BNCONFORM_INSTALLED_PYTHON_KERNELS, BNCONFORM_BUILD_TREE_PYTHON_KERNELS}) {
    const std::filesystem::path candidate = (plugin / relative).lexically_normal();
    std::error_code ec;
    if (std::filesystem::is_directory(candidate, ec)) return candidate.string();
  }
  return {};
}

void start_interpreter(const std::string& packages) {
  if (Py_IsInitialized() != 0) return;
  make_libpython_global();
  py::initialize_interpreter(false);
  {
    py::list path = py::module_::import("sys").attr("path");
    if (!packages.empty()) path.append(packages);
  }
  // The GIL stays released between calls; each call takes it (py::gil_scoped_acquire).
  (void)PyEval_SaveThread();
}

}  // namespace bnconform::python_host
