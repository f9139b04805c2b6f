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

// Where a strided tensor's elements lie in its buffer (docs/abi.md, "Tensor views"):
// the storage index of each element of the dense tensor, in the dense tensor's
// memory order, and the buffer's size in elements. The rest of the buffer is
// padding, which holds the sentinel and must keep it.
struct storage_view {
  std::vector<std::int64_t> offsets;
  std::int64_t storage_size = 0;
};

class guarded_buffer {
 public:
  // input: the kernel must leave it unchanged. output: pre-filled with the
  // sentinel; `contents` gives only dtype and size. in_out: the kernel may update
  // it (running statistics). in_place: holds an input that the kernel overwrites
  // with the output (y over x); a failing call must leave it as it was.
  enum class role { input, output, in_out, in_place };

  // `view`: the tensor lies strided in a larger buffer (nullptr: dense, the buffer
  // is the tensor). collect() still returns the dense tensor.
  guarded_buffer(memory_space& space, std::string name, role r, const tensor& contents,
                 const storage_view* view = nullptr);
  ~guarded_buffer();
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;

  void* data() { return base_ == nullptr ? nullptr : base_ + canary_bytes; }

  // Copies the buffer back and checks it: canaries intact, an input unchanged, an
  // output fully written when `must_be_written`, an output not written at all when
  // `must_be_untouched` (the call failed), a view's padding untouched. Appends what
  // it finds.
  tensor collect(bool must_be_written, std::vector<guard_finding>& findings,
                 bool must_be_untouched = false) const;

 private:
  memory_space& space_;
  std::string name_;
  role role_;
  // A view's elements, densely; padding written (or, in place, anything on failure).
  tensor gather(const tensor& storage) const;
  void check_padding(const tensor& storage, std::vector<guard_finding>& findings,
                     bool must_be_untouched) const;

  tensor original_;  // the buffer's contents before the call (the storage for a view)
  std::vector<std::int64_t> offsets_;  // a view's element offsets; empty when dense
  std::byte* base_ = nullptr;
};

}  // namespace bnconform
