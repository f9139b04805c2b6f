#pragma once
// One tensor as a kernel sees it during one call: its bytes in a memory space,
// between canary bytes, so that the harness can tell afterwards whether the kernel
// wrote out of bounds, left an output element unwritten, or changed an input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memory_space.hpp"
#include "tensor.hpp"

namespace bnconform {

enum class guard_kind { out_of_bounds, unwritten, input_modified };
std::string_view name_of(guard_kind k);

struct guard_finding {
  guard_kind kind;
  std::string buffer;  // "y", "x", "running_mean", ...
  std::string detail;  // where and how much, for the report
};

// Canary bytes on each side of every buffer. Wide enough to catch the usual
// off-by-one and a slipped stride of a few elements; farther writes are caught by
// the sanitizer build and, for plugins, by certify's process isolation.
constexpr std::size_t canary_bytes = 256;
constexpr std::byte canary_byte{0xA5};

// The bit pattern an output holds before the kernel runs: a signalling NaN with a
// payload no arithmetic produces (arithmetic on it yields a quiet NaN), so an
// element that still holds it afterwards was never written.
std::uint64_t sentinel_bits(dtype t);

class guarded_buffer {
 public:
  // input: the kernel must leave it unchanged. output: pre-filled with the
  // sentinel; `contents` gives only dtype and size. in_out: the kernel may update
  // it (running statistics).
  enum class role { input, output, in_out };

  guarded_buffer(memory_space& space, std::string name, role r, const tensor& contents);
  ~guarded_buffer();
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;

  void* data() { return base_ == nullptr ? nullptr : base_ + canary_bytes; }

  // Copies the buffer back and checks it: canaries intact, an input unchanged, an
  // output fully written when `must_be_written`. Appends what it finds.
  tensor collect(bool must_be_written, std::vector<guard_finding>& findings) const;

 private:
  memory_space& space_;
  std::string name_;
  role role_;
  tensor original_;
  std::byte* base_ = nullptr;
};

}  // namespace bnconform
