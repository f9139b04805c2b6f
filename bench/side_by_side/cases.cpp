#include "cases.hpp"

#include <algorithm>
#include <cmath>

namespace bnconform::bench {

namespace {

// The batch-norm inputs of torchvision's ResNet-50 (v1.5, 224x224 input) as
// (C, H, W): conv1; then per stage the bottleneck widths at the stage's input and
// output resolution (the stride sits on the 3x3 conv, so each stage's first 1x1
// conv runs at the previous resolution).
struct resnet_shape {
  std::int64_t c, h, w;
};
constexpr resnet_shape resnet50_shapes[] = {
    {64, 112, 112},                                 // conv1
    {64, 56, 56},   {256, 56, 56},                  // layer1
    {128, 56, 56},  {128, 28, 28}, {512, 28, 28},   // layer2
    {256, 28, 28},  {256, 14, 14}, {1024, 14, 14},  // layer3
    {512, 14, 14},  {512, 7, 7},   {2048, 7, 7}};   // layer4

constexpr std::int64_t resnet_batch = 32;

void add_directions(std::vector<bench_case>& out, const std::vector<std::int64_t>& shape, dtype t,
                    bool beyond_cache) {
  for (layout l : {layout::channels_first, layout::channels_last}) {
    // A 2D problem has one memory order; listing both layouts would time it twice.
    if (shape.size() == 2 && l == layout::channels_last) continue;
    for (direction d :
         {direction::forward_training, direction::forward_eval, direction::backward}) {
      out.push_back({shape, l, t, d, beyond_cache});
    }
  }
}

void add_all_directions(std::vector<bench_case>& out, const std::vector<std::int64_t>& shape) {
  for (dtype t : {dtype::f32, dtype::bf16}) add_directions(out, shape, t, false);
}

constexpr std::int64_t beyond_cache_sample[] = {64, 56, 56};  // C, H, W

}  // namespace

std::string_view name_of(direction d) {
  switch (d) {
    case direction::forward_training: return "forward-train";
    case direction::forward_eval: return "forward-eval";
    case direction::backward: return "backward";
  }
  return "?";
}

problem bench_case::to_problem() const {
  problem::fields f;
  f.shape = shape;
  f.layout = memory_layout;
  f.data_type = data_type;
  f.mode = dir == direction::forward_eval ? mode::eval : mode::training;
  return problem(f);
}

std::string bench_case::shape_text() const {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

std::string bench_case::label() const {
  std::string l = shape.size() == 2                         ? "nc"
                  : memory_layout == layout::channels_first ? "nchw"
                                                            : "nhwc";
  return shape_text() + " " + l + " " + std::string(bnconform::name_of(data_type)) + " " +
         std::string(name_of(dir));
}

double bench_case::tensor_bytes() const {
  return static_cast<double>(to_problem().element_count()) *
         static_cast<double>(size_of(data_type));
}

double bench_case::minimum_bytes() const {
  const double bytes = tensor_bytes();
  return dir == direction::backward ? 3 * bytes : 2 * bytes;
}

double bench_case::two_pass_bytes() const {
  const double bytes = tensor_bytes();
  switch (dir) {
    case direction::forward_training: return 3 * bytes;
    case direction::forward_eval: return 2 * bytes;
    case direction::backward: return 5 * bytes;
  }
  return 0;
}

memory_regime regime_of(const bench_case& c, std::int64_t cache_bytes) {
  const auto cache = static_cast<double>(cache_bytes);
  if (c.minimum_bytes() <= cache) return memory_regime::cache;
  if (c.tensor_bytes() >= dram_factor * cache) return memory_regime::dram;
  return memory_regime::mixed;
}

std::string_view name_of(memory_regime r) {
  switch (r) {
    case memory_regime::cache: return "cache";
    case memory_regime::mixed: return "mixed";
    case memory_regime::dram: return "DRAM";
  }
  return "?";
}

std::int64_t beyond_cache_batch(dtype t, std::int64_t cache_bytes) {
  double sample_bytes = static_cast<double>(size_of(t));
  for (const std::int64_t e : beyond_cache_sample) sample_bytes *= static_cast<double>(e);
  const double wanted =
      std::min(beyond_cache_factor * static_cast<double>(cache_bytes), max_tensor_bytes);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wanted / sample_bytes)));
}

std::vector<bench_case> all_cases(bool quick, std::int64_t cache_bytes) {
  std::vector<bench_case> out;
  if (quick) {
    add_all_directions(out, {256, 256});
    add_all_directions(out, {8, 64, 28, 28});
    return out;
  }
  add_all_directions(out, {256, 256});
  for (const resnet_shape& r : resnet50_shapes) {
    add_all_directions(out, {resnet_batch, r.c, r.h, r.w});
  }
  for (dtype t : {dtype::f32, dtype::bf16}) {
    std::vector<std::int64_t> shape{beyond_cache_batch(t, cache_bytes)};
    shape.insert(shape.end(), std::begin(beyond_cache_sample), std::end(beyond_cache_sample));
    add_directions(out, shape, t, true);
  }
  return out;
}

}  // namespace bnconform::bench
