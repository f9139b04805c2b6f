#pragma once
// What the side-by-side benchmark measures: the large shape, 256x256 and ResNet-50's
// batch-norm shapes in both layouts, f32 and bf16, three directions, and the memory
// traffic each one needs.
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
  bool large;  // the 32x64x56x56 shape, where the bandwidth target applies

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
};

// quick: a few small cases for a smoke test.
std::vector<bench_case> all_cases(bool quick);

}  // namespace bnconform::bench
