#pragma once
// The error model applied to kernel calls: a kernel's outputs and module state
// judged against the reference, element by element (budget.hpp), with the exact
// rules of docs/error-model.md (NaN/Inf patterns, constant channels, exact-fill
// statistics, the counter, status codes, untouched state after an error) and the
// harness guards' findings.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "comparison.hpp"
#include "core/kernel.hpp"
#include "reference/call.hpp"

namespace bnconform::check {

struct options {
  level judged_at = level::strict;
  // The inputs are an exact fill (every partial sum exact in any order): at strict
  // the mean must then be exact, bit for bit (at standard the budget judges it).
  bool exact_statistics = false;
  // Run the kernel a second time on the same inputs and require identical bits.
  bool check_determinism = true;
  int reference_bits = 256;
  // Called between the phases of run_forward and run_backward (the kernel's calls,
  // the reference, the comparison): a caller that watches for silence hears that
  // work goes on while a large call is judged.
  std::function<void()> heartbeat;
};

// `q` are the reference's quantities of the same call (reference::quantities);
// x (and dy) are the call's inputs.
comparison compare_forward(const problem& p, const tensor& x, const module_state& state_before,
                           const reference::forward_result& expected,
                           const std::vector<reference::channel_quantities>& q,
                           const forward_outputs& got, const module_state& state_after,
                           const options& opt);
comparison compare_backward(const problem& p, const tensor& x, const tensor& dy,
                            const module_state& state, const reference::backward_result& expected,
                            const std::vector<reference::channel_quantities>& q,
                            const backward_outputs& got, const options& opt);

// The save_mean and save_invstd of the forward call matching a backward call on p,
// from the reference and correctly rounded (NaN where the batch is empty or the
// forward invalid; empty tensors when p uses running statistics): what a backward
// is given so that it is judged on its own.
std::pair<tensor, tensor> reference_saved_statistics(const problem& p, const tensor& x,
                                                     const module_state& state,
                                                     int reference_bits = 256);

// Runs the kernel (twice when checking determinism) and the reference on the same
// inputs, and compares. The backward call gets the reference's save_mean and
// save_invstd, so it is judged on its own.
// `state_after`, when given, receives the module state the kernel's first call left.
comparison run_forward(const kernel& k, const problem& p, const tensor& x,
                       const module_state& state, const options& opt,
                       module_state* state_after = nullptr);
comparison run_backward(const kernel& k, const problem& p, const tensor& x, const tensor& dy,
                        const module_state& state, const options& opt);

// The reference vouches for inputs within about its precision's binary orders of
// magnitude and says so (a `mistrusted` verdict that asks for a higher precision);
// such a call is judged again at 512, then 1024 bits, rather than left unjudged.
// `run(options)` makes the comparison.
template <class Run>
comparison with_enough_precision(options o, Run run) {
  comparison cmp = run(o);
  for (const int bits : {512, 1024}) {
    if (!cmp.reference_needs_more_bits || bits <= o.reference_bits) break;
    o.reference_bits = bits;
    cmp = run(o);
  }
  return cmp;
}

// The shorthand of CHECK_API: default options at a level.
inline comparison run_forward(const kernel& k, const problem& p, const tensor& x,
                              const module_state& state, level l) {
  options opt;
  opt.judged_at = l;
  return run_forward(k, p, x, state, opt);
}
inline comparison run_backward(const kernel& k, const problem& p, const tensor& x, const tensor& dy,
                               const module_state& state, level l) {
  options opt;
  opt.judged_at = l;
  return run_backward(k, p, x, dy, state, opt);
}

}  // namespace bnconform::check
