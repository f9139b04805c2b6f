#pragma once
// What the host side of the kernel (cuda_kernel.cpp, compiled by the host
// compiler) hands to the device side (bn_kernels.cu): a validated call with raw
// device pointers. No CUDA type appears here, so g++ compiles the validation.
#include <cstdint>
#include <string>

#include "bnconform/kernel.h"
#include "geometry.hpp"

namespace bnconform::cuda {

struct device_forward {
  geometry shape;
  bnc_dtype data = BNC_DTYPE_F32;
  bool batch_statistics = true;  // training, or eval without running statistics
  bool update_running = false;   // training with track_running_stats
  bool affine = true;
  double eps = 0;
  double factor = 0;  // exponential average factor of this call
  const void* x = nullptr;
  void* y = nullptr;
  const void* gamma = nullptr;
  const void* beta = nullptr;
  void* running_mean = nullptr;
  void* running_var = nullptr;
  void* save_mean = nullptr;
  void* save_invstd = nullptr;
  void* stream = nullptr;
};

struct device_backward {
  geometry shape;
  bnc_dtype data = BNC_DTYPE_F32;
  bool batch_statistics = true;
  bool affine = true;
  double eps = 0;
  const void* x = nullptr;
  const void* dy = nullptr;
  void* dx = nullptr;
  const void* gamma = nullptr;
  const void* save_mean = nullptr;  // batch statistics
  const void* save_invstd = nullptr;
  const void* running_mean = nullptr;  // eval with running statistics
  const void* running_var = nullptr;
  void* dgamma = nullptr;
  void* dbeta = nullptr;
  void* stream = nullptr;
};

// Launch every kernel of the call on its stream and wait for it. Empty on success,
// otherwise the CUDA error ("out of memory", ...).
std::string run_forward(const device_forward& call);
std::string run_backward(const device_backward& call);
// The target_blocks the device side plans with (plan_for): 8 blocks per SM of the
// current device. A host emulation that plans alike reproduces its results bit for bit.
std::int64_t device_target_blocks();

}  // namespace bnconform::cuda
