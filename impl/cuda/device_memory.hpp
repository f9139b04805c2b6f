#pragma once
// CUDA device memory as a bnconform::memory_space: cudaMalloc'd buffers, copies
// through a stream of its own, and that stream handed to the kernel.
#include <memory>
#include <string>

#include "core/memory_space.hpp"

namespace bnconform::cuda {

struct device_opening {
  std::unique_ptr<memory_space> device;  // nullptr when there is no usable device
  std::string reason;                    // why not, e.g. "no CUDA device: ..."
};

// Device 0 with a new stream; reason is set and device is nullptr when the CUDA
// runtime finds no device (cudaGetDeviceCount fails or returns 0) or cannot start.
device_opening open_device_with_reason();
// The same without the reason.
std::unique_ptr<memory_space> open_device();

}  // namespace bnconform::cuda
