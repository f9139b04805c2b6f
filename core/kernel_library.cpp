#include "kernel_library.hpp"

#include <dlfcn.h>

#include "error.hpp"

namespace bnconform {

kernel_library::kernel_library(const std::string& path) : path_(path) {
  // RTLD_LOCAL keeps the kernel's symbols out of the global namespace, so two
  // kernels (or a kernel and bnconform) cannot interpose on each other.
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* reason = dlerror();
    report_error("cannot load kernel library '" + path +
                 "': " + (reason ? reason : "unknown error"));
  }
  void* symbol = dlsym(handle_, BNC_KERNEL_SYMBOL);
  if (symbol == nullptr) {
    dlclose(handle_);
    report_error("'" + path +
                 "' does not export the kernel symbol " BNC_KERNEL_SYMBOL
                 " (see include/bnconform/kernel.h)");
  }
  const auto entry = reinterpret_cast<bnc_kernel_entry_fn>(symbol);
  try {
    kernel_ = std::make_unique<bnconform::kernel>(entry());
  } catch (const error& e) {
    dlclose(handle_);
    report_error("'" + path + "': " + e.what());
  }
}

kernel_library::~kernel_library() {
  kernel_.reset();
  if (handle_ != nullptr) dlclose(handle_);
}

}  // namespace bnconform
