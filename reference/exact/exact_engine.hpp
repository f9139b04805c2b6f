#pragma once
// The exact engine: the same correctly rounded outputs, statuses, ill-posed
// reports and quantities as the multiprecision engine (checked.hpp), at a few
// nanoseconds an element (docs/reference.md, "The exact engine").
//   1. Exact per-channel sums (channel_sums.hpp), in parallel, in any order.
//   2. Per channel, the statistics and the per-channel outputs from those sums at
//      P and 2P bits (channel_values.hpp), settled as the multiprecision engine
//      settles its own.
//   3. Per element, double-word arithmetic with an error bound; Ziv's test
//      (settle_word.hpp) rounds it or hands the element back.
//   4. The elements handed back, and whole channels the double-word path does not
//      take (non-finite values, ill-posed, m == 0, magnitudes beyond 2^+-600), are
//      computed by the multiprecision engine's own code at P and 2P bits, so they
//      are the multiprecision engine's results bit for bit.
#include "reference/call.hpp"

namespace bnconform::reference::exact {

// Without y (`with_y` false), only the per-channel outputs: what a backward call is
// given, at the cost of the sums.
template <unsigned Bits>
forward_result exact_forward(const problem& p, const call_inputs& in, bool with_y = true);
template <unsigned Bits>
backward_result exact_backward(const problem& p, const call_inputs& in);
template <unsigned Bits>
std::vector<channel_quantities> exact_quantities(const problem& p, const call_inputs& in);

}  // namespace bnconform::reference::exact
