#pragma once
// Turns the --kernel argument into a kernel: a built-in name ("reference") or a
// path to a shared library that exports the kernel ABI.
#include <memory>
#include <string>
#include <string_view>

#include "core/kernel.hpp"
#include "core/kernel_library.hpp"

namespace bnconform::cli {

// A kernel together with whatever keeps it alive (the loaded library, if any).
class loaded_kernel {
 public:
  loaded_kernel(std::unique_ptr<kernel> builtin, std::unique_ptr<kernel_library> library);
  const kernel& get() const { return library_ ? library_->kernel() : *builtin_; }

 private:
  std::unique_ptr<kernel> builtin_;
  std::unique_ptr<kernel_library> library_;
};

// Anything with a '/' or ending in ".so" names a library file.
bool is_kernel_path(std::string_view name);

// precision_bits: 0 when not given; otherwise only valid for "reference".
// Throws bnconform::error for an unknown name, a bad precision or a bad library.
loaded_kernel load_kernel(const std::string& name, int precision_bits);

}  // namespace bnconform::cli
