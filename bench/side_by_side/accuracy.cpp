#include "accuracy.hpp"

#include <algorithm>
#include <random>

#include "check/compare.hpp"
#include "reference/reference.hpp"

namespace bnconform::bench {

namespace {

tensor normal_values(dtype t, std::int64_t count, double offset, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::vector<double> v(static_cast<std::size_t>(count));
  for (double& e : v) e = offset + normal(rng);
  return tensor::from_values(t, v);
}

accuracy summary(const check::comparison& c) {
  return {true, std::string(check::name_of(c.result)), c.worst_ratio, c.worst_output};
}

}  // namespace

problem accuracy_problem(const bench_case& c, std::int64_t max_reduction) {
  std::vector<std::int64_t> shape = c.shape;
  std::int64_t spatial = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) spatial *= shape[i];
  shape[0] = std::clamp<std::int64_t>(max_reduction / spatial, 2, shape[0]);
  shape[1] = 2;
  return c.to_problem().with_shape(shape);
}

std::vector<accuracy> judge_kernels(const std::vector<const bnc_kernel*>& kernels,
                                    const bench_case& c, std::int64_t max_reduction) {
  const problem p = accuracy_problem(c, max_reduction);
  std::mt19937_64 rng(20261122);
  const double offset = p.data_type() == dtype::bf16 ? 100.0 : 1e4;
  const tensor x = normal_values(p.data_type(), p.element_count(), offset, rng);
  const tensor dy = normal_values(p.data_type(), p.element_count(), 0.0, rng);
  module_state state = module_state::initial(p);
  state.gamma = normal_values(p.stats_type(), p.channels(), 1.0, rng);
  state.beta = normal_values(p.stats_type(), p.channels(), 0.0, rng);
  state.running_mean = normal_values(p.stats_type(), p.channels(), offset, rng);
  state.running_var = tensor::from_values(p.stats_type(), std::vector<double>{1.5, 0.75});

  const bool backward = c.dir == direction::backward;
  const reference::call_inputs in =
      reference::call_inputs::from(x, backward ? dy : tensor(), state);
  const auto quantities = reference::quantities(p, in);
  const reference::forward_result expected_forward = reference::forward(p, in);
  reference::backward_result expected_backward;
  tensor save_mean, save_invstd;
  if (backward) {
    expected_backward = reference::backward(p, in);
    // Each kernel's backward is judged on its own: it gets the reference's saved
    // statistics, as check::run_backward does.
    save_mean = tensor::from_values(p.stats_type(), expected_forward.save_mean.rounded);
    save_invstd = tensor::from_values(p.stats_type(), expected_forward.save_invstd.rounded);
  }

  check::options opt;
  opt.judged_at = check::level::strict;
  opt.check_determinism = false;
  std::vector<accuracy> out;
  for (const bnc_kernel* description : kernels) {
    if (description == nullptr) {  // not to be called
      out.push_back({});
      continue;
    }
    const kernel k(description);
    if (!k.unsupported_reason(p, backward).empty()) {
      out.push_back({});
      continue;
    }
    if (backward) {
      const backward_outputs got = k.backward(p, x, dy, state, save_mean, save_invstd);
      out.push_back(summary(
          check::compare_backward(p, x, dy, state, expected_backward, quantities, got, opt)));
    } else {
      module_state after = state;
      const forward_outputs got = k.forward(p, x, after);
      out.push_back(summary(
          check::compare_forward(p, x, state, expected_forward, quantities, got, after, opt)));
    }
  }
  return out;
}

}  // namespace bnconform::bench
