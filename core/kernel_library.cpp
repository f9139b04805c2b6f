#include "kernel_library.hpp"

#include <dlfcn.h>

#include <array>

#include "error.hpp"
#include "kernel_host.hpp"

namespace bnconform {

void kernel_library::open() {
  // RTLD_LOCAL keeps the kernel's symbols out of the global namespace, so two
  // kernels (or a kernel and bnconform) cannot interpose on each other.
  handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* reason = dlerror();
    report_error("cannot load kernel library '" + path_ +
                 "': " + (reason ? reason : "unknown error"));
  }
}

kernel_library::kernel_library(const std::string& path, const std::string& argument) : path_(path) {
  open();
  void* symbol = dlsym(handle_, hosted_kernel_symbol);
  if (symbol == nullptr) {
    dlclose(handle_);
    report_error("'" + path + "' is no kernel host: it does not export " +
                 std::string(hosted_kernel_symbol));
  }
  std::array<char, 2048> message{};
  const auto entry = reinterpret_cast<hosted_kernel_fn>(symbol);
  const bnc_kernel* description = entry(argument.c_str(), message.data(), message.size());
  message.back() = '\0';
  try {
    if (description == nullptr) report_error(message.data());
    kernel_ = std::make_unique<bnconform::kernel>(description);
  } catch (const error&) {
    dlclose(handle_);
    throw;
  }
}

kernel_library::kernel_library(const std::string& path) : path_(path) {
  open();
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
