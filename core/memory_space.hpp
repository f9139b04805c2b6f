#pragma once
// Where a kernel's buffers live. Host kernels get host memory; a device kernel
// (capabilities.memory == BNC_MEMORY_DEVICE) gets the memory space its runtime
// provides (impl/cuda: cuda::open_device()). The harness allocates, copies and
// checks every buffer through this interface, so its guards work on a device too.
#include <cstddef>
#include <string>

namespace bnconform {

class memory_space {
 public:
  virtual ~memory_space() = default;
  virtual std::string name() const = 0;
  // At least 64-byte aligned. Throws bnconform::error when it cannot allocate.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  // Copies within this space's memory and the host; both wait for completion.
  virtual void upload(void* dst, const void* host_src, std::size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, std::size_t bytes) = 0;
  // The stream handed to the kernel (bnc_*_args.stream); nullptr on the host.
  virtual void* stream() = 0;
  // Waits until the kernel's work on stream() is done; throws on a device fault.
  virtual void synchronize() = 0;
};

// The process's host memory (malloc and memcpy).
memory_space& host_memory();

}  // namespace bnconform
