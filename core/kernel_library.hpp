#pragma once
// Loads a kernel from a shared library through the one exported symbol
// BNC_KERNEL_SYMBOL ("bnconform_kernel"). Isolation (child processes, time limits)
// is the certifier's job; this only opens, finds and checks.
#include <memory>
#include <string>

#include "kernel.hpp"

namespace bnconform {

class kernel_library {
 public:
  // Throws bnconform::error: not a loadable library, symbol missing, NULL
  // description, wrong ABI version.
  explicit kernel_library(const std::string& path);
  // A kernel host's kernel (kernel_host.hpp): the kernel named `argument`, served by
  // the host library at `path`. Throws bnconform::error with the host's reason.
  kernel_library(const std::string& path, const std::string& argument);
  ~kernel_library();
  kernel_library(const kernel_library&) = delete;
  kernel_library& operator=(const kernel_library&) = delete;

  const bnconform::kernel& kernel() const { return *kernel_; }
  const std::string& path() const { return path_; }

 private:
  void open();

  std::string path_;
  void* handle_ = nullptr;
  std::unique_ptr<bnconform::kernel> kernel_;
};

}  // namespace bnconform
