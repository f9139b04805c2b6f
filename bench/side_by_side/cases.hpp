#pragma once
// What the side-by-side benchmark measures: 256x256, ResNet-50's batch-norm shapes
// and a shape several times the last-level cache, in both layouts, f32 and bf16,
// three directions; the memory traffic each one needs, and where its data lives.
#include <cstdint>
#include <string>
#include <vector>

#include "core/problem.hpp"

namespace bnconform::bench {

enum class direction { forward_training, forward_eval, backward };
std::string_view name_of(direction d);

struct bench_case {
  std::vector<std::int64_t> shape;  // N, C, S...
  layout memory_layout;
  dtype data_type;
  direction dir;
  bool beyond_cache = false;  // the shape sized from the last-level cache

  // The problem a kernel solves for this case (PyTorch defaults; eval uses the
  // running statistics; backward is the training-mode backward).
  problem to_problem() const;
  std::string shape_text() const;  // "32x64x56x56"
  std::string label() const;       // "32x64x56x56 nhwc bf16 forward-eval"
  // Bytes that any algorithm must move: every input read once, every output
  // written once (forward: x, y; backward: x, dy, dx). Vectors are negligible.
  double minimum_bytes() const;
  // Bytes a two-pass algorithm moves when the tensor does not fit in cache: the
  // statistics pass reads x (and dy) once more. Eval needs no statistics pass.
  double two_pass_bytes() const;
  double tensor_bytes() const;  // one of x, y, dy, dx
};

// Where a case's data lives between its passes, given the last-level cache:
// cache: every tensor of the call fits in it together (minimum traffic <= cache);
// dram: one tensor alone is at least dram_factor times the cache, so no pass
// finds it there and the time measures memory bandwidth; mixed: in between.
enum class memory_regime { cache, mixed, dram };
inline constexpr double dram_factor = 2;
memory_regime regime_of(const bench_case& c, std::int64_t cache_bytes);
std::string_view name_of(memory_regime r);

// The beyond-cache shape: N x 64 x 56 x 56 with N the smallest batch whose tensor
// is at least beyond_cache_factor times the cache, but at most max_tensor_bytes
// (memory and time); in both layouts, f32 and bf16, three directions.
inline constexpr double beyond_cache_factor = 4;
inline constexpr double max_tensor_bytes = 2.0 * (std::int64_t{1} << 30);
std::int64_t beyond_cache_batch(dtype t, std::int64_t cache_bytes);

// quick: a few small cases for a smoke test. cache_bytes sizes the beyond-cache
// shape (not in the quick set).
std::vector<bench_case> all_cases(bool quick, std::int64_t cache_bytes);

}  // namespace bnconform::bench
