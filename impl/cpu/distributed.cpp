#include "distributed.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/dtype.hpp"
#include "core/tensor.hpp"
#include "double_double.hpp"

namespace bnconform::cpu {

namespace {

dtype dtype_of(bnc_dtype d) {
  switch (d) {
    case BNC_DTYPE_F64: return dtype::f64;
    case BNC_DTYPE_F32: return dtype::f32;
    case BNC_DTYPE_F16: return dtype::f16;
    case BNC_DTYPE_BF16: return dtype::bf16;
  }
  return dtype::f32;
}

bnc_status say(char* message, std::size_t size, bnc_status code, const char* text) {
  if (message != nullptr && size > 0) std::snprintf(message, size, "%s", text);
  return code;
}

constexpr const char* collective_failed = "a collective failed: a rank left the group";

// The element (r, c) of a channel's reduction index r = n * S + s.
struct channel_walk {
  const geometry& g;
  std::int64_t at(std::int64_t r, std::int64_t c) const {
    if (g.channels_innermost) return r * g.channels + c;
    const std::int64_t n = r / g.spatial, s = r % g.spatial;
    return (n * g.channels + c) * g.spatial + s;
  }
};

// Every rank's per-channel double-double sums, added in rank order.
bool global_sums(const bnc_communicator& comm, std::vector<dd>& sums) {
  const std::size_t c = sums.size();
  std::vector<double> mine(2 * c), all(2 * c * static_cast<std::size_t>(comm.size));
  for (std::size_t i = 0; i < c; ++i) {
    mine[2 * i] = sums[i].hi;
    mine[2 * i + 1] = sums[i].lo;
  }
  if (comm.all_gather(comm.context, mine.data(), all.data(), static_cast<std::int64_t>(2 * c),
                      BNC_ELEMENT_F64) != BNC_STATUS_OK) {
    return false;
  }
  for (std::size_t i = 0; i < c; ++i) {
    dd total;
    for (std::size_t r = 0; r < static_cast<std::size_t>(comm.size); ++r) {
      total = total + dd(all[r * 2 * c + 2 * i], all[r * 2 * c + 2 * i + 1]);
    }
    sums[i] = total;
  }
  return true;
}

// The global m (all-reduced as an integer), and its rule: one value per channel over
// every rank is INVALID_PROBLEM on every rank, except in the profiles that
// normalize one value (keras, tf-fused, flax).
bnc_status global_m(const bnc_communicator& comm, const bnc_problem* problem, std::int64_t local,
                    std::int64_t& global, char* message, std::size_t size) {
  global = local;
  if (comm.all_reduce_sum(comm.context, &global, 1, BNC_ELEMENT_I64) != BNC_STATUS_OK) {
    return say(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);
  }
  const bool one_value_ok = problem->profile == BNC_PROFILE_KERAS ||
                            problem->profile == BNC_PROFILE_TF_FUSED ||
                            problem->profile == BNC_PROFILE_FLAX;
  if (global == 1 && !one_value_ok) {
    return say(message, size, BNC_STATUS_INVALID_PROBLEM,
               "m == 1 over every rank: one value per channel (every rank rejects the call)");
  }
  return BNC_STATUS_OK;
}

std::vector<double> read_or_empty(const void* p, bnc_dtype t, std::int64_t count) {
  return p != nullptr && count > 0 ? read_values(p, dtype_of(t), count) : std::vector<double>{};
}

}  // namespace

bnc_status distributed_forward(const bnc_problem* problem, const forward_plan& plan, char* message,
                               std::size_t size) {
  const bnc_forward_args& a = *plan.args;
  const bnc_communicator& comm = *a.communicator;
  const geometry& g = plan.g;
  const std::size_t channels = static_cast<std::size_t>(g.channels);
  const channel_walk walk{g};
  const std::int64_t count = g.batch * g.channels * g.spatial;
  const std::vector<double> x = read_or_empty(a.x, problem->data_dtype, count);

  std::int64_t m = 0;
  if (const bnc_status s = global_m(comm, problem, g.m, m, message, size); s != BNC_STATUS_OK) {
    return s;
  }
  // The mean, then the centred squares, each summed over every rank.
  std::vector<dd> sums(channels), squares(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    dd s;
    for (std::int64_t r = 0; r < g.m; ++r)
      s = s + dd(x[static_cast<std::size_t>(walk.at(r, static_cast<std::int64_t>(c)))]);
    sums[c] = s;
  }
  if (!global_sums(comm, sums))
    return say(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);
  const dd md(static_cast<double>(m));
  std::vector<dd> mean(channels);
  for (std::size_t c = 0; c < channels; ++c) mean[c] = m > 0 ? sums[c] / md : dd(std::nan(""));
  for (std::size_t c = 0; c < channels; ++c) {
    dd s;
    for (std::int64_t r = 0; r < g.m; ++r) {
      const dd d =
          dd(x[static_cast<std::size_t>(walk.at(r, static_cast<std::int64_t>(c)))]) - mean[c];
      s = s + d * d;
    }
    squares[c] = s;
  }
  if (!global_sums(comm, squares))
    return say(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);

  // Every collective is done: from here on the call writes.
  const bnc_dtype st = problem->stats_dtype;
  const std::vector<double> gamma = read_or_empty(a.gamma, st, g.channels);
  const std::vector<double> beta = read_or_empty(a.beta, st, g.channels);
  std::vector<double> save_mean(channels), save_invstd(channels), y(x.size());
  for (std::size_t c = 0; c < channels; ++c) {
    const double var = m > 0 ? to_double(squares[c] / md) : std::nan("");
    const double shift = to_double(mean[c]);
    const double invstd = 1.0 / std::sqrt(var + plan.eps);
    const double scale = invstd * (plan.affine ? gamma[c] : 1.0);
    const double offset = plan.affine ? beta[c] : 0.0;
    for (std::int64_t r = 0; r < g.m; ++r) {
      const auto i = static_cast<std::size_t>(walk.at(r, static_cast<std::int64_t>(c)));
      y[i] = (x[i] - shift) * scale + offset;
    }
    save_mean[c] = shift;
    save_invstd[c] = invstd;
  }
  if (!y.empty()) write_values(a.y, dtype_of(problem->data_dtype), y);
  if (a.save_mean != nullptr) write_values(a.save_mean, dtype_of(st), save_mean);
  if (a.save_invstd != nullptr) write_values(a.save_invstd, dtype_of(st), save_invstd);
  if (plan.update_running) {
    std::vector<double> rm = read_values(a.running_mean, dtype_of(st), g.channels);
    std::vector<double> rv = read_values(a.running_var, dtype_of(st), g.channels);
    for (std::size_t c = 0; c < channels; ++c) {
      if (m == 0) {
        if (plan.empty_batch_gives_nan) rm[c] = rv[c] = std::nan("");
        continue;
      }
      const double biased = to_double(squares[c] / md);
      // The Bessel factor of the global m (tf-fused: m / max(m - 1, 1)).
      const bool biased_kept = plan.biased_running_var || m == 1;
      const double var =
          biased_kept ? biased : to_double(squares[c] / dd(static_cast<double>(m - 1)));
      const double batch_mean = to_double(mean[c]);
      if (plan.replace) {
        rm[c] = batch_mean;
        rv[c] = var;
      } else {
        rm[c] = plan.keep * rm[c] + plan.take * batch_mean;
        rv[c] = plan.keep * rv[c] + plan.take * var;
      }
    }
    write_values(a.running_mean, dtype_of(st), rm);
    write_values(a.running_var, dtype_of(st), rv);
  }
  return say(message, size, BNC_STATUS_OK, "");
}

bnc_status distributed_backward(const bnc_problem* problem, const backward_plan& plan,
                                char* message, std::size_t size) {
  const bnc_backward_args& a = *plan.args;
  const bnc_communicator& comm = *a.communicator;
  const geometry& g = plan.g;
  const std::size_t channels = static_cast<std::size_t>(g.channels);
  const channel_walk walk{g};
  const std::int64_t count = g.batch * g.channels * g.spatial;
  const bnc_dtype st = problem->stats_dtype;
  const std::vector<double> x = read_or_empty(a.x, problem->data_dtype, count);
  const std::vector<double> dy = read_or_empty(a.dy, problem->data_dtype, count);
  const std::vector<double> mean = read_values(a.save_mean, dtype_of(st), g.channels);
  const std::vector<double> invstd = read_values(a.save_invstd, dtype_of(st), g.channels);

  std::int64_t m = 0;
  if (const bnc_status s = global_m(comm, problem, g.m, m, message, size); s != BNC_STATUS_OK) {
    return s;
  }
  // Per channel: the sum of dy and of dy * (x - mean), over every rank.
  std::vector<dd> sums(2 * channels);
  for (std::size_t c = 0; c < channels; ++c) {
    dd s, sc;
    for (std::int64_t r = 0; r < g.m; ++r) {
      const auto i = static_cast<std::size_t>(walk.at(r, static_cast<std::int64_t>(c)));
      s = s + dd(dy[i]);
      sc = sc + dd(dy[i]) * (dd(x[i]) - dd(mean[c]));
    }
    sums[2 * c] = s;
    sums[2 * c + 1] = sc;
  }
  if (!global_sums(comm, sums))
    return say(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);

  const std::vector<double> gamma = read_or_empty(a.gamma, st, g.channels);
  std::vector<double> dx(x.size()), dgamma(channels), dbeta(channels);
  const double md = static_cast<double>(m);
  for (std::size_t c = 0; c < channels; ++c) {
    const double sum_dy = to_double(sums[2 * c]);
    const double sum_dy_centred = to_double(sums[2 * c + 1]);
    const double scale = invstd[c] * (plan.affine ? gamma[c] : 1.0);
    const double mean_dy = sum_dy / md;
    // (x - mean) * invstd^2 * mean(dy * (x - mean)): the xhat term.
    const double slope = invstd[c] * invstd[c] * (sum_dy_centred / md);
    for (std::int64_t r = 0; r < g.m; ++r) {
      const auto i = static_cast<std::size_t>(walk.at(r, static_cast<std::int64_t>(c)));
      dx[i] = scale * ((dy[i] - mean_dy) - (x[i] - mean[c]) * slope);
    }
    dgamma[c] = sum_dy_centred * invstd[c];
    dbeta[c] = sum_dy;
  }
  if (!dx.empty()) write_values(a.dx, dtype_of(problem->data_dtype), dx);
  if (plan.affine) {
    write_values(a.dgamma, dtype_of(st), dgamma);
    write_values(a.dbeta, dtype_of(st), dbeta);
  }
  return say(message, size, BNC_STATUS_OK, "");
}

}  // namespace bnconform::cpu
