#pragma once
// Helpers of the CPU kernel's tests: the kernel behind the harness, random inputs
// and states, and one-call runs judged by the error model (check/) at the strict
// level against the reference.
#include <cstdint>
#include <string>

#include "check/compare.hpp"
#include "core/kernel.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "tests/reference/support.hpp"

namespace bnconform::testing {

inline const kernel& cpu() {
  static const kernel k(cpu::cpu_kernel());
  return k;
}

// x = offset + spread * U(-1, 1) per element, in the problem's dtype.
inline tensor random_data(random_source& rng, const problem& p, double offset, double spread) {
  return random_tensor(rng, p.data_type(), p.element_count(), offset - spread, offset + spread);
}

// Parameters and running statistics away from their defaults, so that every term
// of every formula is exercised (negative gamma included).
inline module_state random_state(random_source& rng, const problem& p) {
  module_state s = module_state::initial(p);
  for (std::int64_t c = 0; c < s.gamma.size(); ++c) {
    s.gamma.set(c, rng.uniform(-2, 2));
    s.beta.set(c, rng.uniform(-1, 1));
  }
  for (std::int64_t c = 0; c < s.running_mean.size(); ++c) {
    s.running_mean.set(c, rng.uniform(-0.5, 0.5));
    s.running_var.set(c, rng.uniform(0.25, 2));
  }
  s.num_batches_tracked = rng.below(5);
  return s;
}

// Strict, with the reference at 128 bits (plenty for these inputs, and faster than
// the default 256), and the error model's own second-run determinism check.
inline check::options strict_options() {
  check::options opt;
  opt.judged_at = check::level::strict;
  opt.reference_bits = 128;
  return opt;
}

// Judges the CPU kernel's forward on (x, state), then advances `state` by the same
// call (as a module would be), so sequences of calls can be judged step by step.
inline check::comparison judged_forward(const problem& p, const tensor& x, module_state& state) {
  check::comparison c = check::run_forward(cpu(), p, x, state, strict_options());
  (void)cpu().forward(p, x, state);
  return c;
}

// The error model feeds the backward the reference's saved statistics, so that it
// is judged on its own.
inline check::comparison judged_backward(const problem& p, const tensor& x, const tensor& dy,
                                         const module_state& state) {
  return check::run_backward(cpu(), p, x, dy, state, strict_options());
}

}  // namespace bnconform::testing
