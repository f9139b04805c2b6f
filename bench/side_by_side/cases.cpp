#include "cases.hpp"

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

void add_all_directions(std::vector<bench_case>& out, std::vector<std::int64_t> shape, bool large) {
  for (dtype t : {dtype::f32, dtype::bf16}) {
    for (layout l : {layout::channels_first, layout::channels_last}) {
      // A 2D problem has one memory order; listing both layouts would time it twice.
      if (shape.size() == 2 && l == layout::channels_last) continue;
      for (direction d :
           {direction::forward_training, direction::forward_eval, direction::backward}) {
        out.push_back({shape, l, t, d, large});
      }
    }
  }
}

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

double bench_case::minimum_bytes() const {
  const double bytes =
      static_cast<double>(to_problem().element_count()) * static_cast<double>(size_of(data_type));
  return dir == direction::backward ? 3 * bytes : 2 * bytes;
}

double bench_case::two_pass_bytes() const {
  const double bytes =
      static_cast<double>(to_problem().element_count()) * static_cast<double>(size_of(data_type));
  switch (dir) {
    case direction::forward_training: return 3 * bytes;
    case direction::forward_eval: return 2 * bytes;
    case direction::backward: return 5 * bytes;
  }
  return 0;
}

std::vector<bench_case> all_cases(bool quick) {
  std::vector<bench_case> out;
  if (quick) {
    add_all_directions(out, {256, 256}, false);
    add_all_directions(out, {8, 64, 28, 28}, false);
    return out;
  }
  add_all_directions(out, {32, 64, 56, 56}, true);
  add_all_directions(out, {256, 256}, false);
  for (const resnet_shape& r : resnet50_shapes) {
    // 32x64x56x56 is both the large shape and a ResNet-50 layer: measured once.
    if (r.c == 64 && r.h == 56) continue;
    add_all_directions(out, {resnet_batch, r.c, r.h, r.w}, false);
  }
  return out;
}

}  // namespace bnconform::bench
