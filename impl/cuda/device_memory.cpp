#include "device_memory.hpp"

#include <cuda_runtime.h>

#include "core/error.hpp"

namespace bnconform::cuda {

namespace {

std::string text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) report_error(std::string("CUDA ") + what + ": " + text(e));
}

class cuda_memory_space final : public memory_space {
 public:
  explicit cuda_memory_space(cudaStream_t stream) : stream_(stream) {}
  ~cuda_memory_space() override { cudaStreamDestroy(stream_); }
  cuda_memory_space(const cuda_memory_space&) = delete;
  cuda_memory_space& operator=(const cuda_memory_space&) = delete;

  std::string name() const override { return "cuda"; }
  void* allocate(std::size_t bytes) override {
    void* p = nullptr;  // cudaMalloc aligns to at least 256 bytes
    const cudaError_t e = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      report_error("out of device memory for " + std::to_string(bytes) + " bytes: " + text(e));
    }
    return p;
  }
  void release(void* p) noexcept override { cudaFree(p); }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return;
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "upload");
    check(cudaStreamSynchronize(stream_), "upload");
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return;
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    check(cudaStreamSynchronize(stream_), "download");
  }
  void* stream() override { return stream_; }
  void synchronize() override { check(cudaStreamSynchronize(stream_), "synchronize"); }

 private:
  cudaStream_t stream_;
};

}  // namespace

device_opening open_device_with_reason() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return {nullptr, "no CUDA device: cudaGetDeviceCount failed with " + text(e)};
  }
  if (count == 0) return {nullptr, "no CUDA device: cudaGetDeviceCount found 0 devices"};
  cudaStream_t stream = nullptr;
  const cudaError_t s = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (s != cudaSuccess)
    return {nullptr, "CUDA device unusable: cudaStreamCreate failed with " + text(s)};
  return {std::make_unique<cuda_memory_space>(stream), {}};
}

std::unique_ptr<memory_space> open_device() { return open_device_with_reason().device; }

}  // namespace bnconform::cuda
