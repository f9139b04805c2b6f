#pragma once
// One tensor as a kernel sees it during one call: its bytes in a memory space,
// between canary bytes, so that the harness can tell afterwards whether the kernel
// wrote out of bounds, left an output element unwritten, or changed an input. In
// host memory the canaries are themselves between guard pages (core/guard_pages.hpp):
// an access far outside the buffer faults on the spot, in the call that made it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memory_space.hpp"
#include "tensor.hpp"

namespace bnconform {

// fp_environment is a finding about the call, not a buffer: the kernel returned with
// another rounding mode, flush-to-zero, denormals-are-zero or exception traps than
// it was called with (core/fp_environment.hpp; docs/abi.md, "The floating-point
// environment").
// written_on_failure: an output holds values after a call that failed (docs/abi.md,
// "Status and messages": a failing call writes nothing). message_unterminated: the
// message buffer holds no NUL after the call.
enum class guard_kind {
  out_of_bounds,
  unwritten,
  input_modified,
  fp_environment,
  written_on_failure,
  message_unterminated
};
std::string_view name_of(guard_kind k);

struct guard_finding {
  guard_kind kind;
  std::string buffer;  // "y", "x", "running_mean", ...; empty for a finding about the call
  std::string detail;  // where and how much, for the report
};

// The finding as one line of a report: "guard: out-of-bounds write in y: ...",
// "guard: floating-point environment changed (clause fp_environment_kept): ...".
std::string describe(const guard_finding& g);

// Canary bytes on each side of every buffer (in host memory, up to the guard pages:
// the trailing canary runs from the last element to the page end). Wide enough to
// catch the usual off-by-one and a slipped stride of a few elements without a
// crash; farther accesses hit a guard page (host memory) and end the process with
// a signal that certify's child processes name (core/guard_pages.hpp).
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
  // output fully written when `must_be_written`, an output not written at all when
  // `must_be_untouched` (the call failed). Appends what it finds.
  tensor collect(bool must_be_written, std::vector<guard_finding>& findings,
                 bool must_be_untouched = false) const;

 private:
  memory_space& space_;
  std::string name_;
  role role_;
  tensor original_;
  std::byte* base_ = nullptr;
};

}  // namespace bnconform
