#include "host_emulator.hpp"

#include <climits>
#include <type_traits>
#include <vector>

#include "impl/cuda/call_checks.hpp"
#include "impl/cuda/formulas.hpp"
#include "impl/cuda/launch_plan.hpp"
#include "impl/cuda/moments.hpp"
#include "impl/cuda/storage.hpp"

namespace bnconform::cuda::testing {

namespace {

std::int64_t target_blocks = 132 * 8;

template <class S>
using stats_t = std::conditional_t<std::is_same_v<S, f64_storage>, double, float>;

// A block's reduction as bn_kernels.cu does it: fold(thread, state) for each
// thread, then the fixed tree. fold_thread(t, s) folds thread t's elements.
template <class State, class Fold>
State block_rows(Fold fold_thread) {
  std::vector<State> items(static_cast<std::size_t>(row_block_threads));
  for (int t = 0; t < row_block_threads; ++t) {
    State s{};
    fold_thread(t, s);
    items[static_cast<std::size_t>(t)] = s;
  }
  return tree_merge(items.data(), row_block_threads);
}

// Rows scheme: one channel, a slice of outer rows, thread t takes i = t, t + 256, ...
template <class State, class Fold>
void reduce_rows(const geometry& g, const launch_plan& p, State* partials, Fold fold) {
  for (std::int64_t task = 0; task < p.blocks(); ++task) {
    const std::int64_t c = task % g.channels;
    const std::int64_t slice = task / g.channels;
    const row_range r = rows_of(p, g, slice);
    partials[partial_index(p, slice, c, 0)] = block_rows<State>([&](int t, State& s) {
      for (std::int64_t o = r.begin; o < r.end; ++o) {
        const std::int64_t base = g.offset(o, c, 0);
        for (std::int64_t i = t; i < g.inner; i += row_block_threads) fold(s, base + i, c);
      }
    });
  }
}

// Columns scheme: 32 columns, thread (x, y) takes column tile * 32 + x and rows
// begin + y, begin + y + 8, ...; the 8 states of a column merge in a tree.
template <class State, class Fold>
void reduce_columns(const geometry& g, const launch_plan& p, State* partials, Fold fold) {
  const std::int64_t width = g.channels * g.inner;
  for (std::int64_t task = 0; task < p.blocks(); ++task) {
    const std::int64_t tile = task % p.tiles;
    const std::int64_t slice = task / p.tiles;
    const row_range r = rows_of(p, g, slice);
    for (int x = 0; x < column_tile; ++x) {
      const std::int64_t column = tile * column_tile + x;
      if (column >= width) continue;
      State items[column_block_rows];
      for (int y = 0; y < column_block_rows; ++y) {
        State s{};
        for (std::int64_t o = r.begin + y; o < r.end; o += column_block_rows)
          fold(s, o * width + column, column / g.inner);
        items[y] = s;
      }
      partials[partial_index(p, slice, column / g.inner, column % g.inner)] =
          tree_merge(items, column_block_rows);
    }
  }
}

template <class State, class Fold>
std::vector<State> reduce(const geometry& g, const launch_plan& p, Fold fold) {
  std::vector<State> partials(static_cast<std::size_t>(p.partial_count()));
  if (p.scheme == scheme::rows)
    reduce_rows(g, p, partials.data(), fold);
  else
    reduce_columns(g, p, partials.data(), fold);
  return partials;
}

// The warp merge of bn_kernels.cu: lane l folds k = l, l + 32, ... in order, then
// lane l absorbs lane l + by for by = 16, 8, 4, 2, 1 (lanes past 31 read their own
// state, as __shfl_down_sync does; lane 0 never reads those).
template <class State>
State warp_merge(const std::vector<State>& partials, const launch_plan& p, std::int64_t c,
                 std::int64_t count) {
  State lanes[32];
  for (int lane = 0; lane < 32; ++lane) {
    State s{};
    for (std::int64_t k = lane; k < count; k += 32)
      s = merge(s, partials[static_cast<std::size_t>(channel_partial(p, c, k))]);
    lanes[lane] = s;
  }
  for (int by = 16; by > 0; by /= 2) {
    State next[32];
    for (int lane = 0; lane < 32; ++lane)
      next[lane] = merge(lanes[lane], lanes[lane + by < 32 ? lane + by : lane]);
    for (int lane = 0; lane < 32; ++lane) lanes[lane] = next[lane];
  }
  return lanes[0];
}

template <class Apply>
void map(const geometry& g, const launch_plan& p, Apply apply) {
  // The element-wise passes write each element once from one thread; the order
  // does not matter for the result, only the channel of each element does.
  (void)p;
  for (std::int64_t o = 0; o < g.outer; ++o)
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t i = 0; i < g.inner; ++i) apply(g.offset(o, c, i), c);
}

template <class S>
std::string forward_as(const device_forward& call) {
  using T = stats_t<S>;
  using V = typename S::value_type;
  const geometry& g = call.shape;
  const launch_plan p = plan_for(g, target_blocks);
  const bool reduce_x = call.batch_statistics && g.element_count() > 0;
  const auto* x = static_cast<const V*>(call.x);
  std::vector<moments> partials;
  if (reduce_x) {
    partials = reduce<moments>(
        g, p, [&](moments& s, std::int64_t at, std::int64_t) { accumulate(s, S::load(x[at])); });
  }
  const auto* gamma = static_cast<const T*>(call.gamma);
  const auto* beta = static_cast<const T*>(call.beta);
  auto* running_mean = static_cast<T*>(call.running_mean);
  auto* running_var = static_cast<T*>(call.running_var);
  std::vector<normalize_coefficients> k(static_cast<std::size_t>(g.channels));
  for (std::int64_t c = 0; c < g.channels; ++c) {
    double mean = 0, invstd = 0;
    if (call.batch_statistics) {
      const batch_statistics st =
          finish(warp_merge(partials, p, c, reduce_x ? p.partials_per_channel : 0), call.eps);
      mean = st.mean;
      invstd = st.invstd;
      static_cast<T*>(call.save_mean)[c] = static_cast<T>(st.mean);
      static_cast<T*>(call.save_invstd)[c] = static_cast<T>(st.invstd);
      if (call.update_running && g.reduction_size() > 0) {
        running_mean[c] =
            static_cast<T>(blend(static_cast<double>(running_mean[c]), st.mean, call.factor));
        running_var[c] = static_cast<T>(
            blend(static_cast<double>(running_var[c]), st.unbiased_var, call.factor));
      }
    } else {
      mean = static_cast<double>(running_mean[c]);
      invstd = invstd_of(static_cast<double>(running_var[c]), call.eps);
    }
    const double gc = call.affine ? static_cast<double>(gamma[c]) : 1.0;
    const double bc = call.affine ? static_cast<double>(beta[c]) : 0.0;
    k[static_cast<std::size_t>(c)] = normalize_for(mean, invstd, gc, bc);
  }
  auto* y = static_cast<V*>(call.y);
  map(g, p, [&](std::int64_t at, std::int64_t c) {
    y[at] = S::store(normalize(S::load(x[at]), k[static_cast<std::size_t>(c)]));
  });
  return {};
}

template <class S>
std::string backward_as(const device_backward& call) {
  using T = stats_t<S>;
  using V = typename S::value_type;
  const geometry& g = call.shape;
  const launch_plan p = plan_for(g, target_blocks);
  const bool reduce_dy = (call.batch_statistics || call.affine) && g.element_count() > 0;
  const auto* x = static_cast<const V*>(call.x);
  const auto* dy = static_cast<const V*>(call.dy);
  const T* mean = static_cast<const T*>(call.batch_statistics ? call.save_mean : call.running_mean);
  const T* spread =
      static_cast<const T*>(call.batch_statistics ? call.save_invstd : call.running_var);
  std::vector<gradient_sums> partials;
  if (reduce_dy) {
    partials = reduce<gradient_sums>(g, p, [&](gradient_sums& s, std::int64_t at, std::int64_t c) {
      accumulate(s, S::load(x[at]), S::load(dy[at]), static_cast<double>(mean[c]));
    });
  }
  std::vector<backward_coefficients> k(static_cast<std::size_t>(g.channels));
  for (std::int64_t c = 0; c < g.channels; ++c) {
    const gradient_sums s = warp_merge(partials, p, c, reduce_dy ? p.partials_per_channel : 0);
    const double invstd = call.batch_statistics
                              ? static_cast<double>(spread[c])
                              : invstd_of(static_cast<double>(spread[c]), call.eps);
    const double gc = call.affine ? static_cast<double>(static_cast<const T*>(call.gamma)[c]) : 1.0;
    double dg = 0, db = 0;
    k[static_cast<std::size_t>(c)] = backward_for(s, static_cast<double>(mean[c]), invstd, gc,
                                                  static_cast<double>(g.reduction_size()), dg, db);
    if (call.affine) {
      static_cast<T*>(call.dgamma)[c] = static_cast<T>(dg);
      static_cast<T*>(call.dbeta)[c] = static_cast<T>(db);
    }
  }
  auto* dx = static_cast<V*>(call.dx);
  map(g, p, [&](std::int64_t at, std::int64_t c) {
    const backward_coefficients& kc = k[static_cast<std::size_t>(c)];
    dx[at] = S::store(call.batch_statistics ? backward_batch(S::load(x[at]), S::load(dy[at]), kc)
                                            : backward_running(S::load(dy[at]), kc.scale));
  });
  return {};
}

template <class Call, class F64, class F32, class F16, class BF16>
std::string dispatch(const Call& call, F64 f64, F32 f32, F16 f16, BF16 bf16) {
  switch (call.data) {
    case BNC_DTYPE_F64: return f64(call);
    case BNC_DTYPE_F32: return f32(call);
    case BNC_DTYPE_F16: return f16(call);
    case BNC_DTYPE_BF16: return bf16(call);
  }
  return "unknown data dtype";
}

bnc_status forward_entry(void*, const bnc_problem* p, const bnc_forward_args* a, char* message,
                         std::size_t size) {
  return checked_forward(p, a, message, size, emulate_forward);
}

bnc_status backward_entry(void*, const bnc_problem* p, const bnc_backward_args* a, char* message,
                          std::size_t size) {
  return checked_backward(p, a, message, size, emulate_backward);
}

constexpr bnc_capabilities capabilities = {
    BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL,
    BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32) | BNC_BIT(BNC_DTYPE_F16) |
        BNC_BIT(BNC_DTYPE_BF16),
    BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
    BNC_BIT(BNC_PROFILE_PYTORCH),
    2,
    INT32_MAX,
    BNC_MEMORY_HOST,
    0};

const bnc_kernel description = {BNC_ABI_VERSION, sizeof(bnc_kernel), "cuda-emulated",
                                "0.1.0",         capabilities,       nullptr,
                                forward_entry,   backward_entry,     0};

}  // namespace

std::string emulate_forward(const device_forward& call) {
  return dispatch(call, forward_as<f64_storage>, forward_as<f32_storage>, forward_as<f16_storage>,
                  forward_as<bf16_storage>);
}

std::string emulate_backward(const device_backward& call) {
  return dispatch(call, backward_as<f64_storage>, backward_as<f32_storage>,
                  backward_as<f16_storage>, backward_as<bf16_storage>);
}

void set_emulated_target_blocks(std::int64_t blocks) { target_blocks = blocks; }

const bnc_kernel* emulated_kernel() { return &description; }

}  // namespace bnconform::cuda::testing
