// The reference's analytic backward against central finite differences of its own
// forward, everything in 256-bit arithmetic (the oracle checks itself, no kernel
// involved). With step h = 2^-70 the truncation error is O(h^2) ~ 1e-42 and the
// cancellation error O(2^-256 / h) ~ 1e-56, so a correct backward agrees to far
// better than the 1e-30 asked for; a wrong term (say the mean(dy) term of dx)
// misses by O(1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "reference/engine.hpp"
#include "reference/real.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using real = reference::mp_float<256>;
using inputs = reference::basic_call_inputs<real>;

const real step = ldexp(real(1), -70);

// L = sum_i w_i y_i, whose gradient is the backward pass with dy = w.
real loss(const problem& p, const inputs& in) {
  const auto y = reference::engine<real, inputs>(p, in).forward().y;
  real sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += in.dy[i] * y[i];
  return sum;
}

// Central difference of the loss along one input element.
real central_difference(const problem& p, inputs in, std::vector<real> inputs::*field,
                        std::size_t i) {
  const real original = (in.*field)[i];
  (in.*field)[i] = original + step;
  const real up = loss(p, in);
  (in.*field)[i] = original - step;
  const real down = loss(p, in);
  return (up - down) / (2 * step);
}

// max |fd - analytic| / max |analytic| over one gradient tensor.
double normwise_disagreement(const problem& p, const inputs& in, std::vector<real> inputs::*field,
                             const std::vector<real>& analytic) {
  real worst = 0, scale = 0;
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    worst = std::max(worst, real(abs(central_difference(p, in, field, i) - analytic[i])));
    scale = std::max(scale, real(abs(analytic[i])));
  }
  return scale == 0 ? static_cast<double>(worst) : static_cast<double>(real(worst / scale));
}

inputs random_inputs(const problem& p, testing::random_source& rng) {
  inputs in;
  const auto fill = [&](std::vector<real>& v, std::int64_t n, double lo, double hi) {
    for (std::int64_t i = 0; i < n; ++i) v.push_back(real(rng.uniform(lo, hi)));
  };
  fill(in.x, p.element_count(), -3, 5);
  fill(in.dy, p.element_count(), -1, 1);
  if (p.affine()) {
    fill(in.gamma, p.channels(), -2, 2);
    fill(in.beta, p.channels(), -1, 1);
  }
  if (p.track_running_stats()) {
    fill(in.running_mean, p.channels(), -1, 1);
    fill(in.running_var, p.channels(), 0.25, 4);
  }
  return in;
}

std::vector<std::int64_t> random_shape(int rank, testing::random_source& rng) {
  std::vector<std::int64_t> shape = {2 + rng.below(3), 1 + rng.below(3)};
  for (int k = 2; k < rank; ++k) shape.push_back(1 + rng.below(3));
  return shape;
}

struct variant {
  const char* mode;
  bool track;
};

TEST(ReferenceGradient, AnalyticBackwardMatchesFiniteDifferences) {
  testing::random_source rng(20261122);
  int checked = 0;
  double worst = 0;
  for (int rank = 2; rank <= 5; ++rank) {
    for (const variant v :
         {variant{"train", true}, variant{"eval", true}, variant{"eval", false}}) {
      for (const bool affine : {true, false}) {
        for (const char* layout : {"channels_first", "channels_last"}) {
          problem::fields f;
          f.shape = random_shape(rank, rng);
          f.layout = std::string(layout) == "channels_first" ? layout::channels_first
                                                             : layout::channels_last;
          f.mode = std::string(v.mode) == "train" ? mode::training : mode::eval;
          f.track_running_stats = v.track;
          f.affine = affine;
          f.eps = rng.uniform(1e-5, 0.5);
          const problem p(f);
          const inputs in = random_inputs(p, rng);
          const auto grad = reference::engine<real, inputs>(p, in).backward();
          SCOPED_TRACE(p.to_string());
          std::vector<double> disagreements = {normwise_disagreement(p, in, &inputs::x, grad.dx)};
          if (affine) {
            disagreements.push_back(normwise_disagreement(p, in, &inputs::gamma, grad.dgamma));
            disagreements.push_back(normwise_disagreement(p, in, &inputs::beta, grad.dbeta));
          }
          for (const double d : disagreements) {
            EXPECT_LT(d, 1e-30);
            worst = std::max(worst, d);
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 3 * 2 * 2);
  std::printf("worst normwise disagreement over %d problems: %.3g\n", checked, worst);
}

TEST(ReferenceGradient, FiniteDifferencesSeeAWrongBackward) {
  // The check has power: dropping the mean(dy) term from dx (a classic kernel
  // bug) changes the gradient by O(1) relative, far above 1e-30.
  testing::random_source rng(7);
  const problem p = problem::parse("shape=3x2x2,eps=0.01");
  const inputs in = random_inputs(p, rng);
  auto grad = reference::engine<real, inputs>(p, in).backward();
  // The reference's dx on channel 0 holds -gamma * invstd / m * sum(dy) in every
  // element; adding that back removes the term exactly.
  std::vector<std::size_t> channel0;
  for (std::int64_t n = 0; n < 3; ++n) {
    for (std::int64_t s = 0; s < 2; ++s)
      channel0.push_back(static_cast<std::size_t>(p.offset(n, 0, s)));
  }
  real sum_x = 0, sum_dy = 0, squares = 0;
  for (const std::size_t i : channel0) {
    sum_x += in.x[i];
    sum_dy += in.dy[i];
  }
  const real mean = sum_x / 6;
  for (const std::size_t i : channel0) squares += (in.x[i] - mean) * (in.x[i] - mean);
  const real invstd = 1 / sqrt(real(squares / 6 + real(p.eps())));
  for (const std::size_t i : channel0) grad.dx[i] += in.gamma[0] * invstd * sum_dy / 6;
  EXPECT_GT(normwise_disagreement(p, in, &inputs::x, grad.dx), 1e-6);
}

}  // namespace
}  // namespace bnconform
