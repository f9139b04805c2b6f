// libFuzzer harness: differential, the CPU kernel against the reference. The bytes
// decode into a small problem (at most 24 elements, so that the 256-bit reference
// keeps up) and its values; both kernels run through the error model at strict
// (check::run_forward / run_backward, guards and determinism included), and a
// `fail` verdict is a finding. Mistrusted and ill-posed verdicts are the error
// model's honest "cannot judge" and are not findings.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "core/error.hpp"
#include "core/kernel.hpp"
#include "harness.hpp"
#include "impl/cpu/cpu_kernel.hpp"

namespace {

using namespace bnconform;

// Reads the input a byte at a time; past the end every byte is 0.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// Two bytes: a value of wide but bounded range (2^-40 .. 2^40), the specials
// (zeros, infinities, NaN) and subnormals of the small formats now and then, for
// data and module state alike. The first runs found that eps == 0 with a vanishing
// variance, and infinite or huge gamma, give infinities and NaNs the exact-pattern
// rule could not judge; the error model now has two rules for them
// (docs/error-model.md, "Infinities"), and the findings' inputs are in the corpus.
double decode_value(byte_reader& in) {
  const std::uint8_t a = in.next(), b = in.next();
  const bool negative = (b & 0x80) != 0;
  double v = 0;
  switch (a) {
    case 0: v = 0; break;
    case 1: v = INFINITY; break;
    case 2: v = NAN; break;
    case 3: v = std::ldexp(1.0, -140); break;  // subnormal in f32, tiny elsewhere
    case 4: v = std::ldexp(1.0, -20) * (b & 0x7f); break;
    default: {
      const int exponent = (a % 81) - 40;
      v = std::ldexp(1.0 + (b & 0x7f) / 128.0, exponent);
    }
  }
  return negative ? -v : v;
}

problem decode_problem(byte_reader& in) {
  const std::uint8_t flags = in.next(), sizes = in.next(), knobs = in.next();
  problem::fields f;
  constexpr dtype dtypes[] = {dtype::f32, dtype::f64, dtype::f16, dtype::bf16};
  f.data_type = dtypes[flags & 3];
  f.layout = (flags & 4) != 0 ? layout::channels_last : layout::channels_first;
  f.mode = (flags & 8) != 0 ? mode::eval : mode::training;
  f.affine = (flags & 16) == 0;
  f.track_running_stats = (flags & 32) == 0;
  const int rank = 2 + (flags >> 6) % 3;
  f.shape = {sizes & 3, 1 + (sizes >> 2) % 3};  // N 0..3, C 1..3
  for (int d = 2; d < rank; ++d) f.shape.push_back(1 + (in.next() % 3));
  constexpr double epsilons[] = {1e-5, 0.0, 1e-3, 1.0};
  f.eps = epsilons[knobs & 3];
  constexpr double momenta[] = {0.1, -1, 0.0, 1.0};  // -1: momentum=None
  const double m = momenta[(knobs >> 2) & 3];
  f.momentum = m < 0 ? std::nullopt : std::optional(m);
  problem p(f);
  // At most 24 elements: halve the largest extent until it fits.
  while (p.element_count() > 24) {
    auto largest = std::max_element(f.shape.begin(), f.shape.end());
    *largest = (*largest + 1) / 2;
    p = problem(f);
  }
  return p;
}

tensor decode_tensor(byte_reader& in, dtype t, std::int64_t count) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, decode_value(in));
  return out;
}

// Judged at strict by the 128-bit reference (fast), and by the 256-bit one where the
// 128-bit one says it needs more precision (inputs spanning more binary orders).
template <class Run>
check::comparison judged(Run run) {
  check::options opt;
  opt.judged_at = check::level::strict;
  opt.reference_bits = 128;
  check::comparison c = run(opt);
  if (c.reference_needs_more_bits) {
    opt.reference_bits = 256;
    c = run(opt);
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kernel cpu_kernel = [] {
    cpu::set_thread_count(1);  // results are the same for every count; one is fastest here
    return kernel(cpu::cpu_kernel());
  }();
  byte_reader in(data, size);
  try {
    const problem p = decode_problem(in);
    const tensor x = decode_tensor(in, p.data_type(), p.element_count());
    const tensor dy = decode_tensor(in, p.data_type(), p.element_count());
    module_state state = module_state::initial(p);
    if (p.affine()) {
      state.gamma = decode_tensor(in, p.stats_type(), p.channels());
      state.beta = decode_tensor(in, p.stats_type(), p.channels());
    }
    if (p.track_running_stats()) {
      state.running_mean = decode_tensor(in, p.stats_type(), p.channels());
      tensor var = decode_tensor(in, p.stats_type(), p.channels());
      for (std::int64_t c = 0; c < var.size(); ++c) var.set(c, std::fabs(var.get(c)));
      state.running_var = var;
    }
    const check::comparison forward = judged([&](const check::options& opt) {
      return check::run_forward(cpu_kernel, p, x, state, opt);
    });
    if (forward.result == check::verdict::fail) fuzzing::finding(forward.describe());
    if (cpu_kernel.unsupported_reason(p, true).empty()) {
      const check::comparison backward = judged([&](const check::options& opt) {
        return check::run_backward(cpu_kernel, p, x, dy, state, opt);
      });
      if (backward.result == check::verdict::fail) fuzzing::finding(backward.describe());
    }
  } catch (const error& e) {
    fuzzing::finding(std::string("the harness threw: ") + e.what());
  }
  return 0;
}
