// The per-element and per-channel formulas (formulas.hpp) against long double
// evaluations of semantics.md's expressions.
#include "impl/cuda/formulas.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace bnconform::cuda {
namespace {

constexpr long double u = 0x1p-53L;

TEST(cuda_formulas, normalize_matches_semantics) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0, 1);
  for (int i = 0; i < 10000; ++i) {
    const double mean = 100 * z(rng), invstd = std::exp(z(rng)), gamma = z(rng), beta = z(rng);
    const double x = mean + z(rng) / invstd;
    const long double want =
        static_cast<long double>(gamma) * ((static_cast<long double>(x) - mean) * invstd) + beta;
    const double got = normalize(x, normalize_for(mean, invstd, gamma, beta));
    // Four roundings (x - mean, gamma * invstd, the product, + beta), each relative
    // to the magnitudes it involves.
    const long double bound =
        4 * u *
        (std::fabs(static_cast<long double>(gamma) * invstd) * (std::fabs(x) + std::fabs(mean)) +
         std::fabs(beta));
    EXPECT_LE(std::fabs(got - want), bound) << i;
  }
}

TEST(cuda_formulas, backward_matches_semantics) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> z(0, 1);
  for (int i = 0; i < 2000; ++i) {
    const double mean = z(rng), invstd = std::exp(z(rng)), gamma = z(rng), m = 50;
    gradient_sums sums{};
    long double sum_dy = 0, sum_dy_xhat = 0;
    double xs[50], dys[50];
    for (int k = 0; k < 50; ++k) {
      xs[k] = mean + z(rng) / invstd;
      dys[k] = z(rng);
      accumulate(sums, xs[k], dys[k], mean);
      sum_dy += dys[k];
      sum_dy_xhat +=
          static_cast<long double>(dys[k]) * ((static_cast<long double>(xs[k]) - mean) * invstd);
    }
    double dgamma = 0, dbeta = 0;
    const backward_coefficients k = backward_for(sums, mean, invstd, gamma, m, dgamma, dbeta);
    EXPECT_NEAR(dbeta, static_cast<double>(sum_dy), 1e-12);
    EXPECT_NEAR(dgamma, static_cast<double>(sum_dy_xhat), 1e-12 * (1 + std::fabs(dgamma)));
    for (int e = 0; e < 50; ++e) {
      const long double xhat = (static_cast<long double>(xs[e]) - mean) * invstd;
      // semantics.md: dx = gamma * invstd / m * (m * dy - dbeta - xhat * dgamma)
      const long double want =
          static_cast<long double>(gamma) * invstd / m * (m * dys[e] - sum_dy - xhat * sum_dy_xhat);
      const double got = backward_batch(xs[e], dys[e], k);
      const long double scale = std::fabs(static_cast<long double>(gamma) * invstd) *
                                (std::fabs(dys[e]) + std::fabs(sum_dy) / m +
                                 std::fabs(xhat) * std::fabs(sum_dy_xhat) / m);
      EXPECT_LE(std::fabs(got - want), 1e-12L * (scale + 1)) << i << " " << e;
    }
    // Eval with running statistics: dx = dy * gamma * invstd.
    EXPECT_EQ(backward_running(dys[0], k.scale), dys[0] * (gamma * invstd));
  }
}

TEST(cuda_formulas, empty_batch_has_zero_gradients) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double dgamma = 1, dbeta = 1;
  (void)backward_for(gradient_sums{}, nan, nan, 2.0, 0.0, dgamma, dbeta);
  EXPECT_EQ(dgamma, 0.0);
  EXPECT_EQ(dbeta, 0.0);
}

TEST(cuda_formulas, running_average_is_written_as_pytorch_writes_it) {
  EXPECT_EQ(blend(4.0, 2.0, 0.25), 0.25 * 2.0 + 0.75 * 4.0);
  EXPECT_TRUE(std::isnan(blend(std::nan(""), 2.0, 1.0)))
      << "(1 - f) * NaN stays NaN, as in PyTorch";
  EXPECT_TRUE(std::isnan(blend(1.0, std::numeric_limits<double>::infinity(), 0.0)));
  EXPECT_EQ(blend(1.0, 5.0, 0.0), 1.0);
  EXPECT_EQ(invstd_of(3.0, 1.0), 0.5);
  EXPECT_EQ(invstd_of(0.0, 0.0), std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace bnconform::cuda
