#include "model_kernel.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bnconform/validate.h"

namespace bnconform::mutants {

namespace {

// The geometry of a call and its memory offsets.
struct geometry {
  std::int64_t n = 0, c = 0, s = 1;
  bool channels_last = false;
  std::int64_t m() const { return n * s; }
  std::int64_t count() const { return n * c * s; }
  std::int64_t offset(std::int64_t in, std::int64_t ic, std::int64_t is) const {
    return channels_last ? (in * s + is) * c + ic : (in * c + ic) * s + is;
  }
};

geometry geometry_of(const bnc_problem* p) {
  geometry g;
  g.n = p->shape[0];
  g.c = p->shape[1];
  for (std::int32_t d = 2; d < p->rank; ++d) g.s *= p->shape[d];
  g.channels_last = p->layout == BNC_LAYOUT_CHANNELS_LAST;
  return g;
}

// Rotates the summation order on every call: the racy_reduction mutant.
std::atomic<std::int64_t> g_call{0};

// Sum of f(v) over a channel's values in the model's way, in compute type T.
template <class T>
struct summer {
  reduction how;
  bool racy;
  // More than 1: the channel cut into this many contiguous chunks, each summed in
  // the model's way and rounded to T, the chunk sums added in T (cpu_count_chunks).
  std::size_t chunks = 1;

  template <class F>
  double sum(const std::vector<T>& v, F f) const {
    if (chunks > 1 && v.size() >= chunks) {
      const summer<T> whole{how, racy};
      T total = 0;
      for (std::size_t c = 0; c < chunks; ++c) {
        const auto first = static_cast<std::ptrdiff_t>(v.size() * c / chunks);
        const auto last = static_cast<std::ptrdiff_t>(v.size() * (c + 1) / chunks);
        const std::vector<T> piece(v.begin() + first, v.begin() + last);
        total += static_cast<T>(whole.sum(piece, f));
      }
      return static_cast<double>(total);
    }
    const std::size_t size = v.size();
    const std::size_t start = racy && size != 0 ? static_cast<std::size_t>(g_call++) % size : 0;
    switch (how) {
      case reduction::sequential:
      case reduction::welford: {  // welford sums only gradients this way
        T acc = 0;
        for (std::size_t k = 0; k < size; ++k) acc += f(v[(start + k) % size]);
        return static_cast<double>(acc);
      }
      case reduction::pairwise: return static_cast<double>(pairwise(v, f, 0, size));
      case reduction::wide: {
        // Neumaier's compensated sum in double: exact enough for f64 data at strict,
        // and the plain double sum is already far within strict for f32 data.
        double s = 0, comp = 0;
        for (std::size_t k = 0; k < size; ++k) {
          const double x = static_cast<double>(f(v[(start + k) % size]));
          const double t = s + x;
          if (std::isfinite(t)) comp += std::abs(s) >= std::abs(x) ? (s - t) + x : (x - t) + s;
          s = t;
        }
        return std::isfinite(s) ? s + comp : s;  // Inf - Inf in the compensation is not NaN
      }
    }
    return 0;
  }

  template <class F>
  T pairwise(const std::vector<T>& v, F f, std::size_t lo, std::size_t hi) const {
    if (hi - lo <= 8) {
      T acc = 0;
      for (std::size_t k = lo; k < hi; ++k) acc += f(v[k]);
      return acc;
    }
    const std::size_t mid = lo + (hi - lo) / 2;
    return pairwise(v, f, lo, mid) + pairwise(v, f, mid, hi);
  }
};

// Welford within blocks of 8, merged pairwise with Chan et al.'s formula.
template <class T>
struct moments {
  T count = 0, mean = 0, m2 = 0;
};
template <class T>
moments<T> merge(const moments<T>& a, const moments<T>& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  moments<T> r;
  r.count = a.count + b.count;
  const T delta = b.mean - a.mean;
  r.mean = a.mean + delta * (b.count / r.count);
  r.m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / r.count);
  return r;
}
template <class T>
moments<T> welford(const std::vector<T>& v, std::size_t lo, std::size_t hi) {
  if (hi - lo <= 8) {
    moments<T> r;
    for (std::size_t k = lo; k < hi; ++k) {
      r.count += 1;
      const T delta = v[k] - r.mean;
      r.mean += delta / r.count;
      r.m2 += delta * (v[k] - r.mean);
    }
    return r;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  return merge(welford(v, lo, mid), welford(v, mid, hi));
}

template <class T>
std::vector<T> channel_values(const T* data, const geometry& g, std::int64_t c) {
  std::vector<T> v;
  v.reserve(static_cast<std::size_t>(g.m()));
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t s = 0; s < g.s; ++s) v.push_back(data[g.offset(n, c, s)]);
  return v;
}

// The CPUs this process may run on, or OMP_NUM_THREADS where set: the chunk count of
// a kernel that cuts its sums one chunk per thread (cpu_count_chunks).
std::size_t thread_count() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const long n = std::atol(env);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<std::size_t>(std::max(1, CPU_COUNT(&set)));
}

std::size_t chunks_of(const model& mo) {
  return mo.bug == flaw::cpu_count_chunks ? thread_count() : 1;
}

// Mean and biased variance of a channel, in the model's way.
template <class T>
void statistics(const model& mo, const std::vector<T>& v, double& mean, double& var) {
  const double m = static_cast<double>(v.size());
  const bool all_finite =
      std::all_of(v.begin(), v.end(), [](T value) { return std::isfinite(value); });
  if (mo.sums == reduction::welford && all_finite) {
    const moments<T> r = welford(v, 0, v.size());
    mean = v.empty() ? std::nan("") : static_cast<double>(r.mean);
    var = v.empty() ? std::nan("") : static_cast<double>(r.m2 / static_cast<T>(m));
    return;
  }
  // Welford's update turns an infinite mean into NaN (x - mean is Inf - Inf): a
  // channel with Inf or NaN takes the pairwise sums, which follow IEEE arithmetic
  // as semantics.md asks (+Inf gives a +Inf mean, +Inf and -Inf a NaN one).
  const summer<T> sum{mo.sums == reduction::welford ? reduction::pairwise : mo.sums,
                      mo.bug == flaw::racy_reduction, chunks_of(mo)};
  if (mo.bug == flaw::one_pass_variance) {
    const T mean_t = static_cast<T>(sum.sum(v, [](T x) { return x; }) / m);
    const T square = static_cast<T>(sum.sum(v, [](T x) { return x * x; }) / m);
    mean = static_cast<double>(mean_t);
    var = static_cast<double>(square - mean_t * mean_t);
    return;
  }
  if (mo.sums == reduction::wide) {
    mean = sum.sum(v, [](T x) { return x; }) / m;
    const double mu = mean;
    var = sum.sum(v, [mu](T x) {
      const double d = static_cast<double>(x) - mu;
      return static_cast<T>(0) + static_cast<T>(d * d);
    }) / m;
    if constexpr (sizeof(T) == 4) {
      // f32 data: the squares above were rounded to f32; redo them in double.
      double acc = 0;
      for (const T x : v) acc += (static_cast<double>(x) - mu) * (static_cast<double>(x) - mu);
      var = acc / m;
    }
    return;
  }
  const T mean_t = static_cast<T>(sum.sum(v, [](T x) { return x; }) / m);
  mean = static_cast<double>(mean_t);
  var = sum.sum(v, [mean_t](T x) { return (x - mean_t) * (x - mean_t); }) / m;
}

// The power of two that brings the largest finite magnitude of an f64 channel into
// [1, 2) (near it for subnormal data); 1 for f32 (whose compute type, double, holds its squares)
// and for a channel of zeros, NaN and Inf.
template <class T>
T scale_of(const std::vector<T>& v) {
  if constexpr (sizeof(T) != sizeof(double)) {
    return static_cast<T>(1);
  } else {
    T largest = 0;
    for (const T value : v) {
      if (std::isfinite(value)) largest = std::max(largest, std::abs(value));
    }
    if (largest == 0) return 1;
    // At most 2^1000: 2^-ilogb of a subnormal can exceed the largest double.
    return std::ldexp(static_cast<T>(1), std::min(-std::ilogb(largest), 1000));
  }
}

// --- SyncBatchNorm (distributed_zoo) ---------------------------------------------

// v rounded to f16 (11 significant bits, to nearest); Inf beyond its largest, 65504.
double as_half(double v) {
  if (v == 0 || !std::isfinite(v)) return v;
  int e = 0;
  std::frexp(v, &e);
  const double r = std::ldexp(std::nearbyint(std::ldexp(v, 11 - e)), e - 11);
  return std::abs(r) > 65504 ? std::copysign(HUGE_VAL, r) : r;
}

bool accepts_one_value(const model& mo, const bnc_problem* p);

[[noreturn]] void hang() {
  for (;;) ::pause();
}

// The global mean and biased variance of each channel: each rank's count, mean and
// variance gathered and merged by Chan et al.'s formula in rank order (the flaws
// break the merge). INVALID_PROBLEM for a global m of 1, INTERNAL_ERROR when a
// collective fails; nothing is written either way.
template <class T>
bnc_status sync_statistics(const model& mo, const bnc_problem* p, const bnc_forward_args* a,
                           std::vector<double>& means, std::vector<double>& vars,
                           std::int64_t& global_m) {
  const bnc_communicator& comm = *a->communicator;
  if (comm.size > 1 && comm.rank == 1) {
    if (mo.bug == flaw::sync_rank_dies) std::abort();
    if (mo.bug == flaw::sync_rank_hangs) hang();
  }
  const geometry g = geometry_of(p);
  global_m = g.m();
  if (comm.all_reduce_sum(comm.context, &global_m, 1, BNC_ELEMENT_I64) != BNC_STATUS_OK) {
    return BNC_STATUS_INTERNAL_ERROR;
  }
  if (global_m == 1 && !accepts_one_value(mo, p) && mo.bug != flaw::sync_no_global_check) {
    return BNC_STATUS_INVALID_PROBLEM;
  }
  const auto channels = static_cast<std::size_t>(g.c);
  std::vector<double> mine(3 * channels);
  for (std::size_t c = 0; c < channels; ++c) {
    double mean = std::nan(""), var = std::nan("");
    const std::vector<T> v =
        channel_values(static_cast<const T*>(a->x), g, static_cast<std::int64_t>(c));
    if (!v.empty()) statistics(mo, v, mean, var);
    const auto count = static_cast<double>(g.m());
    mine[3 * c] = mo.bug == flaw::sync_half_count ? as_half(count) : count;
    mine[3 * c + 1] = mean;
    mine[3 * c + 2] =
        mo.bug == flaw::sync_var_from_invstd
            ? static_cast<double>(static_cast<T>(1) /
                                  std::sqrt(static_cast<T>(var) + static_cast<T>(p->eps)))
            : var;
  }
  std::vector<double> all(mine.size() * static_cast<std::size_t>(comm.size));
  if (comm.all_gather(comm.context, mine.data(), all.data(), static_cast<std::int64_t>(mine.size()),
                      BNC_ELEMENT_F64) != BNC_STATUS_OK) {
    return BNC_STATUS_INTERNAL_ERROR;
  }
  means.assign(channels, 0);
  vars.assign(channels, 0);
  for (std::size_t c = 0; c < channels; ++c) {
    double n = 0, mean = 0, m2 = 0, sum_of_means = 0;
    int nonempty = 0;
    for (std::size_t r = 0; r < static_cast<std::size_t>(comm.size); ++r) {
      const double* from = &all[r * mine.size() + 3 * c];
      const double count = from[0], rank_mean = from[1];
      double rank_var = from[2];
      if (mo.bug == flaw::sync_var_from_invstd) {
        const T invstd = static_cast<T>(rank_var);
        rank_var =
            static_cast<double>(static_cast<T>(1) / (invstd * invstd) - static_cast<T>(p->eps));
      }
      if (count == 0 && mo.bug != flaw::sync_empty_rank_nan) continue;
      sum_of_means += count > 0 ? rank_mean : 0;
      nonempty += count > 0 ? 1 : 0;
      const double total = n + count;
      const double delta = rank_mean - mean;
      mean += delta * (count / total);
      m2 += rank_var * count + delta * delta * (n * count / total);
      n = total;
    }
    if (mo.bug == flaw::sync_unweighted_means && nonempty > 0) {
      mean = sum_of_means / nonempty;
      m2 = 0;
      for (std::size_t r = 0; r < static_cast<std::size_t>(comm.size); ++r) {
        const double* from = &all[r * mine.size() + 3 * c];
        if (from[0] > 0) m2 += from[0] * (from[2] + (from[1] - mean) * (from[1] - mean));
      }
    }
    means[c] = n > 0 ? mean : std::nan("");
    vars[c] = n > 0 ? m2 / n : std::nan("");
  }
  return BNC_STATUS_OK;
}

// The sums of the backward over every rank: each rank's pair per channel gathered
// and added in rank order.
bool sync_sums(const bnc_communicator& comm, std::vector<double>& sums) {
  std::vector<double> all(sums.size() * static_cast<std::size_t>(comm.size));
  if (comm.all_gather(comm.context, sums.data(), all.data(), static_cast<std::int64_t>(sums.size()),
                      BNC_ELEMENT_F64) != BNC_STATUS_OK) {
    return false;
  }
  for (std::size_t i = 0; i < sums.size(); ++i) {
    double total = 0;
    for (std::size_t r = 0; r < static_cast<std::size_t>(comm.size); ++r)
      total += all[r * sums.size() + i];
    sums[i] = total;
  }
  return true;
}

template <class T>
bnc_status forward_typed(const model& mo, const bnc_problem* p, const bnc_forward_args* a) {
  const geometry g = geometry_of(p);
  const T* x = static_cast<const T*>(a->x);
  T* y = static_cast<T*>(a->y);
  const T* gamma = static_cast<const T*>(a->gamma);
  const T* beta = static_cast<const T*>(a->beta);
  T* running_mean = static_cast<T*>(a->running_mean);
  T* running_var = static_cast<T*>(a->running_var);
  const bool training = p->mode == BNC_MODE_TRAINING;
  const bool track = p->track_running_stats != 0;
  const bool batch_stats = training || !track || mo.bug == flaw::eval_uses_batch_stats;
  const bnc_profile pf = p->profile;
  double eps = p->eps;
  if (mo.bug == flaw::tf_fused_eps_floor && pf == BNC_PROFILE_TF_FUSED)
    eps = std::max(eps, 1.001e-5);
  const bool eps_outside = mo.bug == flaw::eps_outside_sqrt ||
                           (mo.bug == flaw::onnx_eps_outside_sqrt && pf == BNC_PROFILE_ONNX);
  double factor = a->exponential_average_factor;
  if (p->momentum_is_none && mo.bug == flaw::none_as_default) factor = 0.1;
  if (mo.kernel.capabilities.keeps_module_state && training && track) {
    std::int64_t& counter = *a->num_batches_tracked;
    if (mo.bug == flaw::float_counter) {
      const float counted = static_cast<float>(counter) + 1.0f;
      counter = static_cast<std::int64_t>(counted);
      if (p->momentum_is_none) factor = 1.0 / static_cast<double>(counted);
    }
    // counter_not_incremented: leaves it alone.
  }
  // A distributed training call takes the statistics of every rank's batch.
  const bool distributed = a->communicator != nullptr && training;
  std::vector<double> sync_mean, sync_var;
  std::int64_t batch_m = g.m();
  if (distributed) {
    const bnc_status s = sync_statistics<T>(mo, p, a, sync_mean, sync_var, batch_m);
    if (s != BNC_STATUS_OK) return s;
  }
  const auto m = static_cast<double>(mo.bug == flaw::sync_local_bessel ? g.m() : batch_m);
  for (std::int64_t c = 0; c < g.c; ++c) {
    std::vector<T> v = channel_values(x, g, c);
    // f64 data is normalized at a power-of-two scale that brings its largest value
    // near 1, so that the variance of subnormal-sized data does not underflow (nor
    // that of values near overflow overflow); in between the scaled arithmetic
    // gives the same bits as the unscaled one.
    const T scale = batch_stats && !distributed ? scale_of(v) : static_cast<T>(1);
    if (scale != 1) {
      for (T& value : v) value *= scale;
    }
    double mean = 0, var = 0;
    if (distributed) {
      mean = sync_mean[static_cast<std::size_t>(c)];
      var = sync_var[static_cast<std::size_t>(c)];
    } else if (batch_stats) {
      statistics(mo, v, mean, var);
    } else {
      mean = static_cast<double>(running_mean[c]);
      var = static_cast<double>(running_var[c]);
    }
    // eps at the data's scale; where that overflows, the scaled variance (below 4) is
    // nothing beside it and the channel is normalized unscaled by 1 / sqrt(eps).
    const T eps_scaled = eps == 0 ? static_cast<T>(0) : static_cast<T>(eps) * scale * scale;
    const bool eps_dominates = !std::isfinite(eps_scaled) && !eps_outside;
    const T invstd_scaled =
        eps_outside
            ? static_cast<T>(1) / (std::sqrt(static_cast<T>(var)) + static_cast<T>(eps) * scale)
            : static_cast<T>(1) / std::sqrt(static_cast<T>(var) + eps_scaled);
    const T invstd =
        eps_dominates ? static_cast<T>(1) / std::sqrt(static_cast<T>(eps)) : invstd_scaled * scale;
    const T mean_scaled = static_cast<T>(mean);
    if (scale != 1) {
      mean = static_cast<double>(mean_scaled / scale);
      var = var / static_cast<double>(scale) / static_cast<double>(scale);
    }
    const T g_c = gamma ? gamma[c] : static_cast<T>(1);
    const bool tail_lane =
        mo.bug == flaw::vector_remainder && g.channels_last && g.c > 16 && c >= g.c / 16 * 16;
    const T b_c = beta && !tail_lane ? beta[c] : static_cast<T>(0);
    for (std::int64_t n = 0; n < g.n; ++n) {
      for (std::int64_t s = 0; s < g.s; ++s) {
        const std::int64_t in = g.offset(n, c, s);
        std::int64_t out = in;
        if (mo.bug == flaw::layout_slip && g.channels_last) out = (n * g.c + c) * g.s + s;
        const T centred = x[in] * scale - mean_scaled;
        y[out] = (eps_dominates ? centred / scale * invstd : centred * invstd_scaled) * g_c + b_c;
      }
    }
    if (training || !track) {
      if (a->save_mean) static_cast<T*>(a->save_mean)[c] = static_cast<T>(mean);
      if (a->save_invstd) static_cast<T*>(a->save_invstd)[c] = invstd;
    }
    // The profile's running update (semantics.md, "Profiles"): the factor weighs
    // the batch value in pytorch and tf-fused, the old value in onnx, keras and
    // flax; pytorch and tf-fused keep the unbiased variance (tf-fused: m / max(m - 1,
    // 1)). An empty batch keeps them (pytorch, onnx) or makes them NaN.
    const bool weighs_batch = (pf == BNC_PROFILE_PYTORCH || pf == BNC_PROFILE_TF_FUSED ||
                               (mo.bug == flaw::keras_momentum_as_pytorch &&
                                pf == BNC_PROFILE_KERAS)) != (mo.bug == flaw::flipped_momentum);
    const bool unbiased_kept =
        (pf == BNC_PROFILE_PYTORCH || pf == BNC_PROFILE_TF_FUSED ||
         (mo.bug == flaw::keras_unbiased_running_var && pf == BNC_PROFILE_KERAS)) &&
        mo.bug != flaw::biased_running_var;
    if (training && track && batch_m == 0 && pf != BNC_PROFILE_PYTORCH && pf != BNC_PROFILE_ONNX) {
      running_mean[c] = static_cast<T>(std::nan(""));
      running_var[c] = static_cast<T>(std::nan(""));
    }
    if (training && track && batch_m > 0) {
      const T f = static_cast<T>(factor);
      const T keep = weighs_batch ? static_cast<T>(1) - f : f;
      const T take = weighs_batch ? f : static_cast<T>(1) - f;
      const double stored = unbiased_kept && m > 1 ? var * m / (m - 1) : var;
      if (pf == BNC_PROFILE_TF_FUSED && factor == 1) {
        running_mean[c] = static_cast<T>(mean);  // the old values are not read
        running_var[c] = static_cast<T>(stored);
      } else {
        running_mean[c] = keep * running_mean[c] + take * static_cast<T>(mean);
        running_var[c] = keep * running_var[c] + take * static_cast<T>(stored);
      }
    }
  }
  if (mo.bug == flaw::unwritten_tail && g.count() > 0) {
    std::uint64_t sentinel_like = sizeof(T) == 8 ? 0x7ff5a5a5a5a5a5a5ull : 0x7fa5a5a5ull;
    std::memcpy(&y[g.count() - 1], &sentinel_like, sizeof(T));  // as if never stored
  }
  if (mo.bug == flaw::out_of_bounds_write) y[g.count()] = 0;
  if (mo.bug == flaw::overwrites_input && g.count() > 0) {
    const_cast<T*>(x)[0] = y[0];
  }
  return BNC_STATUS_OK;
}

template <class T>
bnc_status backward_typed(const model& mo, const bnc_problem* p, const bnc_backward_args* a) {
  const geometry g = geometry_of(p);
  const T* x = static_cast<const T*>(a->x);
  const T* dy = static_cast<const T*>(a->dy);
  T* dx = static_cast<T*>(a->dx);
  const bool batch_stats = p->mode == BNC_MODE_TRAINING || !p->track_running_stats;
  const summer<T> sum{mo.sums == reduction::welford ? reduction::pairwise : mo.sums,
                      mo.bug == flaw::racy_reduction, chunks_of(mo)};
  // A distributed training call: the sums and the count of every rank's batch.
  const bool distributed = a->communicator != nullptr && p->mode == BNC_MODE_TRAINING;
  std::int64_t batch_m = g.m();
  std::vector<double> sums;
  if (distributed) {
    const bnc_communicator& comm = *a->communicator;
    if (comm.all_reduce_sum(comm.context, &batch_m, 1, BNC_ELEMENT_I64) != BNC_STATUS_OK) {
      return BNC_STATUS_INTERNAL_ERROR;
    }
    if (batch_m == 1 && !accepts_one_value(mo, p) && mo.bug != flaw::sync_no_global_check) {
      return BNC_STATUS_INVALID_PROBLEM;
    }
    for (std::int64_t c = 0; c < g.c; ++c) {
      const T mean = static_cast<const T*>(a->save_mean)[c];
      const T invstd = static_cast<const T*>(a->save_invstd)[c];
      const std::vector<T> xs = channel_values(x, g, c);
      const std::vector<T> dys = channel_values(dy, g, c);
      std::vector<T> products(xs.size());
      for (std::size_t k = 0; k < xs.size(); ++k) products[k] = dys[k] * ((xs[k] - mean) * invstd);
      sums.push_back(sum.sum(dys, [](T v) { return v; }));
      sums.push_back(sum.sum(products, [](T v) { return v; }));
    }
    if (!sync_sums(comm, sums)) return BNC_STATUS_INTERNAL_ERROR;
  }
  const auto m = static_cast<double>(batch_m);
  for (std::int64_t c = 0; c < g.c; ++c) {
    T mean, invstd;
    if (batch_stats) {
      mean = static_cast<const T*>(a->save_mean)[c];
      invstd = static_cast<const T*>(a->save_invstd)[c];
    } else {
      mean = static_cast<const T*>(a->running_mean)[c];
      invstd = static_cast<T>(1) /
               std::sqrt(static_cast<const T*>(a->running_var)[c] + static_cast<T>(p->eps));
    }
    const std::vector<T> xs = channel_values(x, g, c);
    const std::vector<T> dys = channel_values(dy, g, c);
    std::vector<T> products(xs.size());
    for (std::size_t k = 0; k < xs.size(); ++k) products[k] = dys[k] * ((xs[k] - mean) * invstd);
    const double sum_dy =
        distributed ? sums[2 * static_cast<std::size_t>(c)] : sum.sum(dys, [](T v) { return v; });
    const double sum_dy_xhat = distributed ? sums[2 * static_cast<std::size_t>(c) + 1]
                                           : sum.sum(products, [](T v) { return v; });
    const T g_c = a->gamma ? static_cast<const T*>(a->gamma)[c] : static_cast<T>(1);
    const T mean_dy = mo.bug == flaw::missing_mean_dy || !batch_stats ? static_cast<T>(0)
                                                                      : static_cast<T>(sum_dy / m);
    const T mean_dy_xhat = batch_stats ? static_cast<T>(sum_dy_xhat / m) : static_cast<T>(0);
    for (std::int64_t n = 0; n < g.n; ++n) {
      for (std::int64_t s = 0; s < g.s; ++s) {
        const std::int64_t i = g.offset(n, c, s);
        // Eval normalizes with constants: dx does not depend on x (an infinite or NaN
        // x leaves it finite).
        if (!batch_stats) {
          dx[i] = g_c * invstd * dy[i];
          continue;
        }
        const T xhat = (x[i] - mean) * invstd;
        dx[i] = g_c * invstd * (dy[i] - mean_dy - xhat * mean_dy_xhat);
      }
    }
    if (a->dgamma) static_cast<T*>(a->dgamma)[c] = static_cast<T>(sum_dy_xhat);
    if (a->dbeta) static_cast<T*>(a->dbeta)[c] = static_cast<T>(sum_dy);
  }
  return BNC_STATUS_OK;
}

// The in_place_rereads_x mutant's second pass: save_mean from x, which in place
// holds y by now.
template <class T>
void mean_again(const bnc_problem* p, const bnc_forward_args* a) {
  const geometry g = geometry_of(p);
  for (std::int64_t c = 0; c < g.c; ++c) {
    double sum = 0;
    for (T v : channel_values(static_cast<const T*>(a->x), g, c)) sum += static_cast<double>(v);
    static_cast<T*>(a->save_mean)[c] = static_cast<T>(sum / static_cast<double>(g.m()));
  }
}

// The ABI's clauses (bnconform/validate.h): the models are correct kernels apart
// from their one flaw, so they reject malformed calls and m == 1 like any other.
// keras, tf-fused and flax normalize one value per channel; momentum=None exists
// only in pytorch.
bool accepts_one_value(const model& mo, const bnc_problem* p) {
  if (mo.bug == flaw::flax_rejects_one_value && p->profile == BNC_PROFILE_FLAX) return false;
  return p->profile == BNC_PROFILE_KERAS || p->profile == BNC_PROFILE_TF_FUSED ||
         p->profile == BNC_PROFILE_FLAX;
}

bnc_status profile_rules(const model& mo, const bnc_problem* p, bnc_status s, char* message,
                         size_t size) {
  // The one-value clause is the last of either table: when it is the one that
  // failed, every other clause passed.
  if (s == BNC_STATUS_INVALID_PROBLEM && accepts_one_value(mo, p)) s = BNC_STATUS_OK;
  if (s == BNC_STATUS_OK && p->momentum_is_none && p->profile != BNC_PROFILE_PYTORCH) {
    if (message != nullptr && size > 0) {
      std::snprintf(message, size, "momentum=None exists only in the pytorch profile");
    }
    return BNC_STATUS_UNSUPPORTED;
  }
  if (s == BNC_STATUS_OK && message != nullptr && size > 0) message[0] = '\0';
  return s;
}

bnc_status forward(void* context, const bnc_problem* p, const bnc_forward_args* a, char* message,
                   size_t size) {
  const model& mo = *static_cast<const model*>(context);
  const bnc_status s =
      mo.bug == flaw::validates_nothing
          ? BNC_STATUS_OK
          : profile_rules(mo, p,
                          bnc_validate_forward(p, a, mo.kernel.capabilities.keeps_module_state,
                                               message, size),
                          message, size);
  if (s != BNC_STATUS_OK) return s;
  const bnc_status done = p->data_dtype == BNC_DTYPE_F64 ? forward_typed<double>(mo, p, a)
                                                         : forward_typed<float>(mo, p, a);
  if (done == BNC_STATUS_OK && mo.bug == flaw::in_place_rereads_x && a->y == a->x &&
      a->save_mean != nullptr) {
    if (p->data_dtype == BNC_DTYPE_F64) {
      mean_again<double>(p, a);
    } else {
      mean_again<float>(p, a);
    }
  }
  return done;
}

bnc_status backward(void* context, const bnc_problem* p, const bnc_backward_args* a, char* message,
                    size_t size) {
  const model& mo = *static_cast<const model*>(context);
  const bnc_status s =
      mo.bug == flaw::validates_nothing
          ? BNC_STATUS_OK
          : profile_rules(mo, p, bnc_validate_backward(p, a, message, size), message, size);
  if (s != BNC_STATUS_OK) return s;
  return p->data_dtype == BNC_DTYPE_F64 ? backward_typed<double>(mo, p, a)
                                        : backward_typed<float>(mo, p, a);
}

bool keeps_state(flaw f) { return f == flaw::counter_not_incremented || f == flaw::float_counter; }

model make(std::string_view name, reduction r, flaw f, std::string_view expectation) {
  model mo{name, r, f, expectation, {}};
  mo.kernel.abi_version = BNC_ABI_VERSION;
  mo.kernel.struct_size = sizeof(bnc_kernel);
  mo.kernel.name = name.data();
  mo.kernel.version = "model";
  mo.kernel.capabilities = {BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL |
                                BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL,
                            BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32),
                            BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
                            BNC_BIT(BNC_PROFILE_PYTORCH),
                            2,
                            8,
                            BNC_MEMORY_HOST,
                            keeps_state(f) ? 1 : 0};
  mo.kernel.forward = forward;
  mo.kernel.backward = backward;
  if (f == flaw::ignores_strides) {
    mo.kernel.features =
        BNC_FEATURE_ANY_STRIDES | BNC_FEATURE_IN_PLACE_FORWARD | BNC_FEATURE_IN_PLACE_BACKWARD;
  }
  if (f == flaw::in_place_rereads_x) mo.kernel.features = BNC_FEATURE_IN_PLACE_FORWARD;
  return mo;
}

// Context pointers must point at the stored models, so they are set once the
// arrays are in place.
template <std::size_t N>
std::array<model, N>& bind(std::array<model, N>& models) {
  for (model& mo : models) mo.kernel.context = &mo;
  return models;
}

// A convention-swap mutant: pytorch and the profile of its bug.
model make_in(std::string_view name, flaw f, bnc_profile pf, std::string_view expectation) {
  model mo = make(name, reduction::wide, f, expectation);
  mo.kernel.capabilities.profiles |= BNC_BIT(pf);
  return mo;
}

}  // namespace

std::span<const model> correct_models() {
  static std::array<model, 3> models{
      make("model-wide", reduction::wide, flaw::none, "strict"),
      make("model-pairwise", reduction::pairwise, flaw::none, "standard"),
      make("model-welford", reduction::welford, flaw::none, "standard")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models;
}

const model& sequential_model() {
  static std::array<model, 1> models{
      make("model-sequential", reduction::sequential, flaw::none, "budget")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models[0];
}

std::span<const model> zoo() {
  using r = reduction;
  static std::array<model, 16> models{
      make("mutant-sequential-f32", r::sequential, flaw::none, "budget"),
      make("mutant-biased-running-var", r::wide, flaw::biased_running_var, "running_var"),
      make("mutant-flipped-momentum", r::wide, flaw::flipped_momentum, "running_mean"),
      make("mutant-none-as-default", r::wide, flaw::none_as_default, "running_mean"),
      make("mutant-eps-outside-sqrt", r::wide, flaw::eps_outside_sqrt, "save_invstd"),
      make("mutant-one-pass-variance", r::sequential, flaw::one_pass_variance, "budget"),
      make("mutant-layout-slip", r::wide, flaw::layout_slip, "y["),
      make("mutant-missing-mean-dy", r::wide, flaw::missing_mean_dy, "dx["),
      make("mutant-unwritten-tail", r::wide, flaw::unwritten_tail, "unwritten output"),
      make("mutant-out-of-bounds-write", r::wide, flaw::out_of_bounds_write, "out-of-bounds"),
      make("mutant-counter-not-incremented", r::wide, flaw::counter_not_incremented,
           "num_batches_tracked"),
      make("mutant-float-counter", r::wide, flaw::float_counter, "num_batches_tracked"),
      make("mutant-eval-uses-batch-stats", r::wide, flaw::eval_uses_batch_stats, "y["),
      make("mutant-racy-reduction", r::sequential, flaw::racy_reduction, "nondeterministic"),
      make("mutant-overwrites-input", r::wide, flaw::overwrites_input, "input modified"),
      make("mutant-vector-remainder", r::wide, flaw::vector_remainder, "y[")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models;
}

std::span<const model> contract_zoo() {
  static std::array<model, 4> models{
      make("mutant-validates-nothing", reduction::wide, flaw::validates_nothing, "malformed/"),
      make("mutant-cpu-count-chunks", reduction::wide, flaw::cpu_count_chunks,
           "results depend on the CPU count"),
      make("mutant-ignores-strides", reduction::wide, flaw::ignores_strides, "views/"),
      make("mutant-in-place-rereads-x", reduction::wide, flaw::in_place_rereads_x,
           "views/in-place")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models;
}

model make_sync(std::string_view name, flaw f, std::string_view expectation) {
  model mo = make(name, reduction::wide, f, expectation);
  mo.kernel.features = BNC_FEATURE_DISTRIBUTED_TRAINING;
  return mo;
}

const model& sync_model() {
  static std::array<model, 1> models{make_sync("model-sync", flaw::none, "strict")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models[0];
}

std::span<const model> distributed_zoo() {
  static std::array<model, 8> models{
      make_sync("mutant-sync-half-count", flaw::sync_half_count, "distributed/large-count"),
      make_sync("mutant-sync-empty-rank-nan", flaw::sync_empty_rank_nan, "distributed/empty-rank"),
      make_sync("mutant-sync-var-from-invstd", flaw::sync_var_from_invstd,
                "distributed/variance-below-eps"),
      make_sync("mutant-sync-no-global-check", flaw::sync_no_global_check,
                "distributed/global-m-1"),
      make_sync("mutant-sync-unweighted-means", flaw::sync_unweighted_means,
                "distributed/uneven-shards"),
      make_sync("mutant-sync-local-bessel", flaw::sync_local_bessel, "running_var"),
      make_sync("mutant-sync-rank-dies", flaw::sync_rank_dies, "exited on signal"),
      make_sync("mutant-sync-rank-hangs", flaw::sync_rank_hangs, "did not finish")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models;
}

std::span<const model> convention_zoo() {
  static std::array<model, 5> models{
      make_in("mutant-keras-unbiased-running-var", flaw::keras_unbiased_running_var,
              BNC_PROFILE_KERAS,
              "running variance: keras keeps the biased variance, the kernel returned the "
              "unbiased one"),
      make_in("mutant-keras-momentum-as-pytorch", flaw::keras_momentum_as_pytorch,
              BNC_PROFILE_KERAS,
              "keras's momentum is the weight of the old value, the kernel used it as the weight "
              "of the batch value"),
      make_in("mutant-tf-fused-eps-floor", flaw::tf_fused_eps_floor, BNC_PROFILE_TF_FUSED,
              "normalizes with 1 / sqrt(var + eps), eps as given (no floor)"),
      make_in("mutant-onnx-eps-outside-sqrt", flaw::onnx_eps_outside_sqrt, BNC_PROFILE_ONNX,
              "normalizes with 1 / sqrt(var + eps)"),
      make_in("mutant-flax-rejects-one-value", flaw::flax_rejects_one_value, BNC_PROFILE_FLAX,
              "in the flax profile m == 1 is no error")};
  static const bool bound = (bind(models), true);
  (void)bound;
  return models;
}

}  // namespace bnconform::mutants
