#include "memory_space.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include "error.hpp"

namespace bnconform {

namespace {

class host_memory_space final : public memory_space {
 public:
  std::string name() const override { return "host"; }
  void* allocate(std::size_t bytes) override {
    constexpr std::size_t alignment = 64;
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
    if (p == nullptr) report_error("out of host memory for " + std::to_string(bytes) + " bytes");
    return p;
  }
  void release(void* p) noexcept override { std::free(p); }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    if (bytes != 0) std::memcpy(dst, src, bytes);
  }
  void* stream() override { return nullptr; }
  void synchronize() override {}
};

}  // namespace

memory_space& host_memory() {
  static host_memory_space space;
  return space;
}

}  // namespace bnconform
