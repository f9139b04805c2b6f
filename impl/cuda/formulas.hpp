#pragma once
// Per-channel and per-element formulas of semantics.md, in double. The kernels
// compute every channel quantity and every element in double and round once when
// they store, so f32, f16 and bf16 data get f64 accumulation (tolerance.md's
// strict level) and f64 data gets tree-merged Welford sums (standard level).
#include <cmath>

#include "host_device.hpp"
#include "moments.hpp"
#include "storage.hpp"

namespace bnconform::cuda {

// Batch statistics of one channel from its merged moments.
struct batch_statistics {
  double mean;
  double var;           // biased: normalizes
  double unbiased_var;  // M2 / (m - 1): blended into running_var
  double invstd;        // 1 / sqrt(var + eps)
};

BNC_HOST_DEVICE batch_statistics finish(const moments& s, double eps) {
  const double nan = double_of(0x7ff8000000000000ull);  // quiet NaN (no <limits> on the device)
  batch_statistics r;
  if (s.special != 0) {  // an Inf or NaN input: mean +-Inf or NaN, variance NaN
    r.mean = s.special;
    r.var = nan;
    r.unbiased_var = nan;
  } else if (s.count == 0) {  // empty batch: 0 / 0
    r.mean = nan;
    r.var = nan;
    r.unbiased_var = nan;
  } else {
    r.mean = s.mean;
    r.var = s.m2 / s.count;
    r.unbiased_var = s.count > 1 ? s.m2 / (s.count - 1) : 0.0;
  }
  r.invstd = 1.0 / sqrt(r.var + eps);
  return r;
}

BNC_HOST_DEVICE double invstd_of(double var, double eps) { return 1.0 / sqrt(var + eps); }

// running = f * batch + (1 - f) * running, written as PyTorch writes it so that
// non-finite values propagate alike (f = 0 with an infinite mean gives NaN).
BNC_HOST_DEVICE double blend(double running, double batch, double factor) {
  return factor * batch + (1.0 - factor) * running;
}

// y = gamma * (x - mean) * invstd + beta, with scale = gamma * invstd.
struct normalize_coefficients {
  double mean = 0;
  double scale = 1;
  double beta = 0;
};

BNC_HOST_DEVICE normalize_coefficients normalize_for(double mean, double invstd, double gamma,
                                                     double beta) {
  return {mean, gamma * invstd, beta};
}

BNC_HOST_DEVICE double normalize(double x, const normalize_coefficients& k) {
  return (x - k.mean) * k.scale + k.beta;
}

// Training backward (batch statistics):
//   dx = gamma * invstd * ((dy - dbeta / m) - xhat * dgamma / m),  xhat = (x - mean) * invstd
// the grouping of semantics.md's gamma * invstd / m * (m * dy - dbeta - xhat * dgamma).
struct backward_coefficients {
  double mean = 0;
  double invstd = 0;
  double scale = 0;        // gamma * invstd
  double dbeta_mean = 0;   // dbeta / m
  double dgamma_mean = 0;  // dgamma / m
};

// sums: the channel's gradient_sums around `mean`; returns the coefficients and
// writes dgamma (= invstd * sum dy (x - mean)) and dbeta (= sum dy).
BNC_HOST_DEVICE backward_coefficients backward_for(const gradient_sums& sums, double mean,
                                                   double invstd, double gamma, double m,
                                                   double& dgamma, double& dbeta) {
  dbeta = sums.dy;
  // An empty batch has zero gradients even though its saved invstd is NaN.
  dgamma = m == 0 ? 0.0 : invstd * sums.dy_xmu;
  backward_coefficients k;
  k.mean = mean;
  k.invstd = invstd;
  k.scale = gamma * invstd;
  k.dbeta_mean = dbeta / m;
  k.dgamma_mean = dgamma / m;
  return k;
}

BNC_HOST_DEVICE double backward_batch(double x, double dy, const backward_coefficients& k) {
  const double xhat = (x - k.mean) * k.invstd;
  return k.scale * ((dy - k.dbeta_mean) - xhat * k.dgamma_mean);
}

// Eval backward with running statistics: y is affine in x, dx = dy * gamma * invstd
// (x never enters, so an Inf in x leaves dx finite).
BNC_HOST_DEVICE double backward_running(double dy, double scale) { return dy * scale; }

}  // namespace bnconform::cuda
