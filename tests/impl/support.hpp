#pragma once
// Helpers of the CPU kernel's tests: the kernel behind the harness, random inputs
// and states, and one-call runs judged by the strict judge.
#include <cstdint>
#include <string>

#include "core/kernel.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "strict_judge.hpp"
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

// Runs the CPU kernel's forward on (x, state) and judges it at the strict level.
inline judgement judged_forward(const problem& p, const tensor& x, module_state& state) {
  strict_judge judge(p, x, tensor(p.data_type(), 0), state);
  const module_state before = state;
  const forward_outputs out = cpu().forward(p, x, state);
  return judge.forward(out, before, state);
}

// Runs the CPU kernel's backward, fed the reference's (rounded) saved statistics so
// that it is judged on its own, as the error model does.
inline judgement judged_backward(const problem& p, const tensor& x, const tensor& dy,
                                 const module_state& state) {
  strict_judge judge(p, x, dy, state);
  tensor save_mean, save_invstd;
  if (p.uses_batch_statistics()) {
    const reference::forward_result r = reference::forward(
        p, reference::call_inputs::from(x, tensor(p.data_type(), 0), state), {128});
    save_mean = tensor::from_values(p.stats_type(), r.save_mean.rounded);
    save_invstd = tensor::from_values(p.stats_type(), r.save_invstd.rounded);
  }
  const backward_outputs out = cpu().backward(p, x, dy, state, save_mean, save_invstd);
  return judge.backward(out);
}

}  // namespace bnconform::testing
