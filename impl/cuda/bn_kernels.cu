// The device side of the CUDA kernel: reductions, per-channel finishing and the
// element-wise passes, instantiated for the four storage types. The arithmetic is
// the host-tested code of moments.hpp, formulas.hpp, storage.hpp and geometry.hpp;
// this file only arranges it on the grid (launch_plan.hpp) and moves the data.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <type_traits>

#include "device_call.hpp"
#include "formulas.hpp"
#include "launch_plan.hpp"
#include "moments.hpp"
#include "storage.hpp"

namespace bnconform::cuda {

namespace {

constexpr int block_threads = 256;  // every kernel: 256 threads (rows) or 32 x 8 (columns)
static_assert(row_block_threads == block_threads &&
              column_tile * column_block_rows == block_threads);
constexpr std::int64_t max_grid = 1 << 20;  // grid-stride beyond this

template <class S>
using stats_t = std::conditional_t<std::is_same_v<S, f64_storage>, double, float>;

// The fixed-order merge of a block's 256 states (rows scheme), or of the 8 states
// of each of 32 columns (columns scheme, items laid out [column][row]).
template <class T>
__device__ T block_merge_rows(T* shared, T mine) {
  shared[threadIdx.x] = mine;
  __syncthreads();
  for (int half = block_threads / 2; half > 0; half /= 2) {
    tree_level(shared, half, static_cast<int>(threadIdx.x));
    __syncthreads();
  }
  T r = shared[0];
  __syncthreads();  // shared is reused by the next task
  return r;
}

template <class T>
__device__ T block_merge_columns(T* shared, T mine) {
  T* column = shared + threadIdx.x * column_block_rows;
  column[threadIdx.y] = mine;
  __syncthreads();
  for (int half = column_block_rows / 2; half > 0; half /= 2) {
    tree_level(column, half, static_cast<int>(threadIdx.y));
    __syncthreads();
  }
  T r = column[0];
  __syncthreads();
  return r;
}

// ---- reductions: one partial state per (slice, channel) or (slice, column) ----

template <class S>
struct moments_op {
  using state = moments;
  const typename S::value_type* x;
  __device__ double channel(std::int64_t) const { return 0; }
  __device__ void fold(state& s, std::int64_t at, double) const { accumulate(s, S::load(x[at])); }
};

template <class S>
struct gradient_op {
  using state = gradient_sums;
  const typename S::value_type* x;
  const typename S::value_type* dy;
  const stats_t<S>* mean;  // save_mean or running_mean
  __device__ double channel(std::int64_t c) const { return static_cast<double>(mean[c]); }
  __device__ void fold(state& s, std::int64_t at, double mu) const {
    accumulate(s, S::load(x[at]), S::load(dy[at]), mu);
  }
};

template <class Op>
__global__ void __launch_bounds__(block_threads)
    reduce_rows(Op op, geometry g, launch_plan p, typename Op::state* partials) {
  __shared__ typename Op::state shared[block_threads];
  for (std::int64_t task = blockIdx.x; task < p.blocks(); task += gridDim.x) {
    const std::int64_t c = task % g.channels;
    const std::int64_t slice = task / g.channels;
    const row_range r = rows_of(p, g, slice);
    const double context = op.channel(c);
    typename Op::state s{};
    for (std::int64_t o = r.begin; o < r.end; ++o) {
      const std::int64_t base = g.offset(o, c, 0);
      for (std::int64_t i = threadIdx.x; i < g.inner; i += block_threads)
        op.fold(s, base + i, context);
    }
    const typename Op::state total = block_merge_rows(shared, s);
    if (threadIdx.x == 0) partials[partial_index(p, slice, c, 0)] = total;
  }
}

template <class Op>
__global__ void __launch_bounds__(block_threads)
    reduce_columns(Op op, geometry g, launch_plan p, typename Op::state* partials) {
  __shared__ typename Op::state shared[block_threads];
  const std::int64_t width = g.channels * g.inner;
  for (std::int64_t task = blockIdx.x; task < p.blocks(); task += gridDim.x) {
    const std::int64_t tile = task % p.tiles;
    const std::int64_t slice = task / p.tiles;
    const row_range r = rows_of(p, g, slice);
    const std::int64_t column = tile * column_tile + threadIdx.x;
    typename Op::state s{};
    if (column < width) {
      const double context = op.channel(column / g.inner);
      for (std::int64_t o = r.begin + threadIdx.y; o < r.end; o += column_block_rows)
        op.fold(s, o * width + column, context);
    }
    const typename Op::state total = block_merge_columns(shared, s);
    if (threadIdx.y == 0 && column < width)
      partials[partial_index(p, slice, column / g.inner, column % g.inner)] = total;
  }
}

// ---- finishing: one warp per channel merges that channel's partials ----

__device__ moments shuffle_down(const moments& s, int by) {
  return {__shfl_down_sync(0xffffffffu, s.count, by), __shfl_down_sync(0xffffffffu, s.mean, by),
          __shfl_down_sync(0xffffffffu, s.m2, by), __shfl_down_sync(0xffffffffu, s.special, by)};
}

__device__ gradient_sums shuffle_down(const gradient_sums& s, int by) {
  return {__shfl_down_sync(0xffffffffu, s.dy, by), __shfl_down_sync(0xffffffffu, s.dy_xmu, by)};
}

// Lane l folds the channel's partials l, l + 32, ... in order; then a fixed
// shuffle tree (lane 0 only ever reads lanes that hold valid states).
template <class T>
__device__ T warp_merge(const T* partials, const launch_plan& p, std::int64_t c,
                        std::int64_t count) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  T s{};
  for (std::int64_t k = lane; k < count; k += 32) s = merge(s, partials[channel_partial(p, c, k)]);
  for (int by = 16; by > 0; by /= 2) s = merge(s, shuffle_down(s, by));
  return s;
}

struct forward_finish_args {
  launch_plan plan;
  std::int64_t channels, per_channel;
  bool batch, update, affine;
  double eps, factor, m;
};

template <class T>
__global__ void __launch_bounds__(block_threads)
    finish_forward(const moments* partials, forward_finish_args a, const T* gamma, const T* beta,
                   T* running_mean, T* running_var, T* save_mean, T* save_invstd,
                   normalize_coefficients* coefficients) {
  const std::int64_t warps = block_threads / 32;
  for (std::int64_t c = blockIdx.x * warps + threadIdx.x / 32; c < a.channels;
       c += static_cast<std::int64_t>(gridDim.x) * warps) {
    double mean = 0, invstd = 0;
    if (a.batch) {
      const moments s = warp_merge(partials, a.plan, c, a.per_channel);
      const batch_statistics st = finish(s, a.eps);
      mean = st.mean;
      invstd = st.invstd;
      if (threadIdx.x % 32 == 0) {
        save_mean[c] = static_cast<T>(st.mean);
        save_invstd[c] = static_cast<T>(st.invstd);
        if (a.update && a.m > 0) {
          running_mean[c] =
              static_cast<T>(blend(static_cast<double>(running_mean[c]), st.mean, a.factor));
          running_var[c] =
              static_cast<T>(blend(static_cast<double>(running_var[c]), st.unbiased_var, a.factor));
        }
      }
    } else {
      mean = static_cast<double>(running_mean[c]);
      invstd = invstd_of(static_cast<double>(running_var[c]), a.eps);
    }
    if (threadIdx.x % 32 == 0) {
      const double g = a.affine ? static_cast<double>(gamma[c]) : 1.0;
      const double b = a.affine ? static_cast<double>(beta[c]) : 0.0;
      coefficients[c] = normalize_for(mean, invstd, g, b);
    }
  }
}

struct backward_finish_args {
  launch_plan plan;
  std::int64_t channels, per_channel;
  bool batch, affine;
  double eps, m;
};

template <class T>
__global__ void __launch_bounds__(block_threads)
    finish_backward(const gradient_sums* partials, backward_finish_args a, const T* gamma,
                    const T* mean_in, const T* spread_in, T* dgamma, T* dbeta,
                    backward_coefficients* coefficients) {
  const std::int64_t warps = block_threads / 32;
  for (std::int64_t c = blockIdx.x * warps + threadIdx.x / 32; c < a.channels;
       c += static_cast<std::int64_t>(gridDim.x) * warps) {
    const gradient_sums s = warp_merge(partials, a.plan, c, a.per_channel);
    if (threadIdx.x % 32 != 0) continue;
    const double mean = static_cast<double>(mean_in[c]);
    // Batch statistics: spread is save_invstd; running: running_var.
    const double invstd = a.batch ? static_cast<double>(spread_in[c])
                                  : invstd_of(static_cast<double>(spread_in[c]), a.eps);
    const double g = a.affine ? static_cast<double>(gamma[c]) : 1.0;
    double dg = 0, db = 0;
    coefficients[c] = backward_for(s, mean, invstd, g, a.m, dg, db);
    if (a.affine) {
      dgamma[c] = static_cast<T>(dg);
      dbeta[c] = static_cast<T>(db);
    }
  }
}

// ---- element-wise passes ----

template <class S>
struct normalize_map {
  const typename S::value_type* x;
  typename S::value_type* y;
  const normalize_coefficients* k;
  __device__ normalize_coefficients channel(std::int64_t c) const { return k[c]; }
  __device__ void apply(std::int64_t at, const normalize_coefficients& kc) const {
    y[at] = S::store(normalize(S::load(x[at]), kc));
  }
};

template <class S>
struct backward_batch_map {
  const typename S::value_type* x;
  const typename S::value_type* dy;
  typename S::value_type* dx;
  const backward_coefficients* k;
  __device__ backward_coefficients channel(std::int64_t c) const { return k[c]; }
  __device__ void apply(std::int64_t at, const backward_coefficients& kc) const {
    dx[at] = S::store(backward_batch(S::load(x[at]), S::load(dy[at]), kc));
  }
};

template <class S>
struct backward_running_map {
  const typename S::value_type* dy;
  typename S::value_type* dx;
  const backward_coefficients* k;
  __device__ double channel(std::int64_t c) const { return k[c].scale; }
  __device__ void apply(std::int64_t at, double scale) const {
    dx[at] = S::store(backward_running(S::load(dy[at]), scale));
  }
};

template <class Map>
__global__ void __launch_bounds__(block_threads) map_rows(Map f, geometry g, launch_plan p) {
  for (std::int64_t task = blockIdx.x; task < p.blocks(); task += gridDim.x) {
    const std::int64_t c = task % g.channels;
    const row_range r = rows_of(p, g, task / g.channels);
    const auto k = f.channel(c);
    for (std::int64_t o = r.begin; o < r.end; ++o) {
      const std::int64_t base = g.offset(o, c, 0);
      for (std::int64_t i = threadIdx.x; i < g.inner; i += block_threads) f.apply(base + i, k);
    }
  }
}

template <class Map>
__global__ void __launch_bounds__(block_threads) map_columns(Map f, geometry g, launch_plan p) {
  const std::int64_t width = g.channels * g.inner;
  for (std::int64_t task = blockIdx.x; task < p.blocks(); task += gridDim.x) {
    const std::int64_t column = (task % p.tiles) * column_tile + threadIdx.x;
    if (column >= width) continue;
    const row_range r = rows_of(p, g, task / p.tiles);
    const auto k = f.channel(column / g.inner);
    for (std::int64_t o = r.begin + threadIdx.y; o < r.end; o += column_block_rows)
      f.apply(o * width + column, k);
  }
}

// ---- launching ----

unsigned grid_for(std::int64_t blocks) {
  return static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, max_grid));
}

dim3 block_for(scheme s) {
  return s == scheme::rows ? dim3(block_threads) : dim3(column_tile, column_block_rows);
}

template <class Op>
void launch_reduce(const Op& op, const geometry& g, const launch_plan& p,
                   typename Op::state* partials, cudaStream_t stream) {
  if (p.scheme == scheme::rows)
    reduce_rows<<<grid_for(p.blocks()), block_for(p.scheme), 0, stream>>>(op, g, p, partials);
  else
    reduce_columns<<<grid_for(p.blocks()), block_for(p.scheme), 0, stream>>>(op, g, p, partials);
}

template <class Map>
void launch_map(const Map& f, const geometry& g, const launch_plan& p, cudaStream_t stream) {
  if (p.scheme == scheme::rows)
    map_rows<<<grid_for(p.blocks()), block_for(p.scheme), 0, stream>>>(f, g, p);
  else
    map_columns<<<grid_for(p.blocks()), block_for(p.scheme), 0, stream>>>(f, g, p);
}

// Device scratch memory for one call, stream-ordered, released on every path.
class scratch {
 public:
  scratch(std::size_t bytes, cudaStream_t stream) : stream_(stream) {
    if (bytes > 0) status_ = cudaMallocAsync(&data_, bytes, stream);
  }
  ~scratch() {
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  cudaError_t status() const { return status_; }
  template <class T>
  T* at(std::size_t byte_offset) const {
    return reinterpret_cast<T*>(static_cast<char*>(data_) + byte_offset);
  }

 private:
  cudaStream_t stream_;
  void* data_ = nullptr;
  cudaError_t status_ = cudaSuccess;
};

std::string error_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

std::size_t align(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

template <class S>
std::string forward_as(const device_forward& call) {
  using T = stats_t<S>;
  using V = typename S::value_type;
  const geometry& g = call.shape;
  const auto stream = static_cast<cudaStream_t>(call.stream);
  const launch_plan p = plan_for(g, device_target_blocks());
  const bool reduce = call.batch_statistics && g.element_count() > 0;
  const std::size_t partial_bytes = reduce ? align(sizeof(moments) * p.partial_count()) : 0;
  scratch work(partial_bytes + sizeof(normalize_coefficients) * g.channels, stream);
  if (work.status() != cudaSuccess) return "device scratch memory: " + error_text(work.status());
  auto* partials = work.at<moments>(0);
  auto* coefficients = work.at<normalize_coefficients>(partial_bytes);
  if (reduce) launch_reduce(moments_op<S>{static_cast<const V*>(call.x)}, g, p, partials, stream);
  const forward_finish_args a{p,
                              g.channels,
                              reduce ? p.partials_per_channel : 0,
                              call.batch_statistics,
                              call.update_running,
                              call.affine,
                              call.eps,
                              call.factor,
                              static_cast<double>(g.reduction_size())};
  const std::int64_t warps = block_threads / 32;
  finish_forward<T><<<grid_for((g.channels + warps - 1) / warps), block_threads, 0, stream>>>(
      partials, a, static_cast<const T*>(call.gamma), static_cast<const T*>(call.beta),
      static_cast<T*>(call.running_mean), static_cast<T*>(call.running_var),
      static_cast<T*>(call.save_mean), static_cast<T*>(call.save_invstd), coefficients);
  if (g.element_count() > 0)
    launch_map(
        normalize_map<S>{static_cast<const V*>(call.x), static_cast<V*>(call.y), coefficients}, g,
        p, stream);
  return {};
}

template <class S>
std::string backward_as(const device_backward& call) {
  using T = stats_t<S>;
  using V = typename S::value_type;
  const geometry& g = call.shape;
  const auto stream = static_cast<cudaStream_t>(call.stream);
  const launch_plan p = plan_for(g, device_target_blocks());
  // dgamma and dbeta need the sums; so does dx with batch statistics.
  const bool reduce = (call.batch_statistics || call.affine) && g.element_count() > 0;
  const std::size_t partial_bytes = reduce ? align(sizeof(gradient_sums) * p.partial_count()) : 0;
  scratch work(partial_bytes + sizeof(backward_coefficients) * g.channels, stream);
  if (work.status() != cudaSuccess) return "device scratch memory: " + error_text(work.status());
  auto* partials = work.at<gradient_sums>(0);
  auto* coefficients = work.at<backward_coefficients>(partial_bytes);
  const T* mean = static_cast<const T*>(call.batch_statistics ? call.save_mean : call.running_mean);
  const T* spread =
      static_cast<const T*>(call.batch_statistics ? call.save_invstd : call.running_var);
  if (reduce)
    launch_reduce(
        gradient_op<S>{static_cast<const V*>(call.x), static_cast<const V*>(call.dy), mean}, g, p,
        partials, stream);
  const backward_finish_args a{
      p,           g.channels, reduce ? p.partials_per_channel : 0,    call.batch_statistics,
      call.affine, call.eps,   static_cast<double>(g.reduction_size())};
  const std::int64_t warps = block_threads / 32;
  finish_backward<T><<<grid_for((g.channels + warps - 1) / warps), block_threads, 0, stream>>>(
      partials, a, static_cast<const T*>(call.gamma), mean, spread, static_cast<T*>(call.dgamma),
      static_cast<T*>(call.dbeta), coefficients);
  if (g.element_count() > 0) {
    const auto* dy = static_cast<const V*>(call.dy);
    auto* dx = static_cast<V*>(call.dx);
    if (call.batch_statistics)
      launch_map(backward_batch_map<S>{static_cast<const V*>(call.x), dy, dx, coefficients}, g, p,
                 stream);
    else
      launch_map(backward_running_map<S>{dy, dx, coefficients}, g, p, stream);
  }
  return {};
}

// Runs body, then waits for the stream: a launch error and an asynchronous fault
// are both reported, and the caller's buffers are final when the call returns.
template <class Body>
std::string guarded(void* raw_stream, Body&& body) {
  const auto stream = static_cast<cudaStream_t>(raw_stream);
  (void)cudaGetLastError();  // clear an error left by someone else
  std::string failure = body();
  const cudaError_t launch = cudaGetLastError();
  const cudaError_t done = cudaStreamSynchronize(stream);
  if (!failure.empty()) return failure;
  if (launch != cudaSuccess) return "kernel launch: " + error_text(launch);
  if (done != cudaSuccess) return "kernel execution: " + error_text(done);
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

}  // namespace

std::int64_t device_target_blocks() {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    (void)cudaGetLastError();
    sms = 132;  // an H100 SXM; only the partitioning depends on it
  }
  return 8 * static_cast<std::int64_t>(sms);  // 8 blocks of 256 threads fill an SM
}

std::string run_forward(const device_forward& call) {
  return guarded(call.stream, [&] {
    return dispatch(call, forward_as<f64_storage>, forward_as<f32_storage>, forward_as<f16_storage>,
                    forward_as<bf16_storage>);
  });
}

std::string run_backward(const device_backward& call) {
  return guarded(call.stream, [&] {
    return dispatch(call, backward_as<f64_storage>, backward_as<f32_storage>,
                    backward_as<f16_storage>, backward_as<bf16_storage>);
  });
}

}  // namespace bnconform::cuda
