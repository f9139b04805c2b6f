#pragma once
// What one call of batch normalization reads and what the reference makes of it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bnconform::reference {

// The values a call reads. The reference reads exact doubles (every value of every
// supported dtype is one); the engine also accepts multiprecision inputs, which the
// finite-difference self-check needs. Vectors absent from the problem are empty.
template <class T>
struct basic_call_inputs {
  std::vector<T> x;
  std::vector<T> dy;                         // backward only
  std::vector<T> gamma, beta;                // when affine
  std::vector<T> running_mean, running_var;  // when track_running_stats
  std::int64_t num_batches_tracked = 0;
};

struct call_inputs : basic_call_inputs<double> {
  // The inputs of a call on harness tensors (dy may be empty for a forward call).
  static call_inputs from(const tensor& x, const tensor& dy, const module_state& state);
};

// One output tensor of the reference: `rounded` is the exact result correctly
// rounded to the output's dtype; `residual` is (exact - rounded) rounded to 16
// significant bits (to nearest, ties to even, within the exponent range of double),
// so rounded + residual carries the exact value to 2^-17 of an ulp of the output:
// far below any budget the error model gives, and within reach of the exact
// engine's double-word arithmetic for every dtype. For f64 outputs its bounds are
// about 2^-87 of the value, so 32 bits (2^-86) would send half of them to the
// multiprecision fallback (bench/reference_speed). Both are NaN where the result is
// NaN. Where a finite exact result rounds to an infinity (beyond the dtype's range), `residual` is
// instead the exact value itself rounded to double (0 when that overflows too).
struct output {
  std::vector<double> rounded;
  std::vector<double> residual;
};

// The format of `output::residual`: 16 significant bits, the exponent range of
// double (its quantum is 2^-1074 at the bottom, so every residual is a double).
constexpr binary_format residual_format{16, -1059, 1023};

// An output element whose rounding the self-check could not settle.
struct unsettled_element {
  std::string output;  // "y", "save_invstd", ...
  std::int64_t index;  // memory index within that output
  double spread = 0;   // |high - low| bound on the lower computation's error (inf for NaN)
};

struct forward_result {
  call_status status;
  output y;
  output save_mean, save_invstd;     // when batch statistics are used
  output running_mean, running_var;  // when track_running_stats (new values in training)
  std::int64_t num_batches_tracked = 0;
  std::vector<std::int64_t> ill_posed_channels;  // eps == 0 and zero variance
  std::vector<unsettled_element> unsettled;
  // The self-check cannot vouch for this call at this precision (inputs spanning
  // too many binary orders, or elements left unsettled): status is an internal
  // error, and a higher precision may judge it.
  bool needs_more_bits = false;
  // Elements the self-check could not settle but accepted as negligible
  // (negligible.hpp): there the value is known only to within `spread`.
  std::vector<unsettled_element> forgiven;
  // Elements the exact engine handed to the multiprecision computation (where
  // double-word arithmetic could not settle their rounding); 0 for that engine.
  std::int64_t fallback_elements = 0;
};

struct backward_result {
  call_status status;
  output dx;
  output dgamma, dbeta;  // when affine
  std::vector<std::int64_t> ill_posed_channels;
  std::vector<unsettled_element> unsettled;
  // The self-check cannot vouch for this call at this precision (inputs spanning
  // too many binary orders, or elements left unsettled): status is an internal
  // error, and a higher precision may judge it.
  bool needs_more_bits = false;
  // Elements the self-check could not settle but accepted as negligible
  // (negligible.hpp): there the value is known only to within `spread`.
  std::vector<unsettled_element> forgiven;
  // Elements the exact engine handed to the multiprecision computation (where
  // double-word arithmetic could not settle their rounding); 0 for that engine.
  std::int64_t fallback_elements = 0;
};

// Exact per-channel quantities, rounded to double, for the error model
// (docs/tolerance.md#per-channel-quantities). Backward sums are zero when dy is
// absent.
struct channel_quantities {
  std::int64_t m = 0;   // reduction size
  double mean = 0;      // of the statistics used (batch or running)
  double var = 0;       // biased batch variance, or the running variance in eval
  double invstd = 0;    // 1 / sqrt(var + eps)
  double mean_abs = 0;  // A = mean |x|
  double sum_dy = 0, sum_abs_dy = 0;
  double sum_dy_xhat = 0, sum_abs_dy_xhat = 0;
};

}  // namespace bnconform::reference
