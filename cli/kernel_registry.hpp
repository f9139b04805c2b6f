#pragma once
// Turns the --kernel argument into a kernel: a built-in name ("reference") or a
// path to a shared library that exports the kernel ABI.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernel.hpp"
#include "core/kernel_library.hpp"

namespace bnconform::cli {

// A kernel together with whatever keeps it alive (the loaded library, or the
// device memory space of a built-in device kernel).
class loaded_kernel {
 public:
  loaded_kernel(std::unique_ptr<kernel> builtin, std::unique_ptr<kernel_library> library,
                std::unique_ptr<memory_space> device = nullptr);
  const kernel& get() const { return library_ ? library_->kernel() : *builtin_; }

 private:
  std::unique_ptr<memory_space> device_;  // outlives the kernel that uses it
  std::unique_ptr<kernel> builtin_;
  std::unique_ptr<kernel_library> library_;
};

// The prefix of a kernel written in Python: python:PACKAGE.MODULE or python:FILE.py.
inline constexpr std::string_view python_prefix = "python:";
bool is_python_kernel(std::string_view name);

// Anything else with a '/' or ending in ".so" names a library file.
bool is_kernel_path(std::string_view name);

// Every built-in name load_kernel knows, in the order a user is told them.
std::vector<std::string> kernel_names();

// The help text of a --kernel option: every built-in name, from kernel_names(), or
// a path; `default_name` when the option has a default.
std::string kernel_option_help(const std::string& default_name = "");

// Built-in names: "reference", and "cuda" and "cudnn" where impl/cuda built them
// (they need a CUDA device: without one, loading says why).
// precision_bits: 0 when not given; otherwise only valid for "reference".
// Throws bnconform::error for an unknown name, a bad precision or a bad library.
loaded_kernel load_kernel(const std::string& name, int precision_bits);

}  // namespace bnconform::cli
