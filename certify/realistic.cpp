#include "realistic.hpp"

#include <algorithm>
#include <array>
#include <climits>

#include "cell.hpp"
#include "core/error.hpp"
#include "shapes_file.hpp"

namespace bnconform::certify {

namespace {

constexpr std::int64_t batch = 32;

std::vector<std::int64_t> nc(std::int64_t c, std::vector<std::int64_t> spatial) {
  std::vector<std::int64_t> shape{batch, c};
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  return shape;
}

std::vector<network_layers> make_networks() {
  std::vector<network_layers> out;
  // ResNet-50 on 224x224 images: the distinct inputs of its BN layers (stride in the
  // bottleneck's 3x3 convolution, as torchvision's ResNet-50 v1.5).
  out.push_back({"resnet50",
                 "He et al. 2016, Deep Residual Learning for Image Recognition, Table 1 (50-layer)",
                 {nc(64, {112, 112}), nc(64, {56, 56}), nc(256, {56, 56}), nc(128, {56, 56}),
                  nc(128, {28, 28}), nc(512, {28, 28}), nc(256, {28, 28}), nc(256, {14, 14}),
                  nc(1024, {14, 14}), nc(512, {14, 14}), nc(512, {7, 7}), nc(2048, {7, 7})}});
  // MobileNetV2 (width 1.0) on 224x224 images: expansion, depthwise and projection
  // BN layers of each stage.
  out.push_back(
      {"mobilenetv2",
       "Sandler et al. 2018, MobileNetV2: Inverted Residuals and Linear Bottlenecks, "
       "Table 2",
       {nc(32, {112, 112}), nc(16, {112, 112}), nc(96, {112, 112}), nc(96, {56, 56}),
        nc(24, {56, 56}), nc(144, {56, 56}), nc(144, {28, 28}), nc(32, {28, 28}), nc(192, {28, 28}),
        nc(192, {14, 14}), nc(64, {14, 14}), nc(384, {14, 14}), nc(96, {14, 14}), nc(576, {14, 14}),
        nc(576, {7, 7}), nc(160, {7, 7}), nc(960, {7, 7}), nc(320, {7, 7}), nc(1280, {7, 7})}});
  // A 3D U-Net with the channel widths of Cicek et al. (32-64, 64-128, 128-256,
  // 256-512) on a 12x20x20 patch with same-padded convolutions.
  out.push_back(
      {"unet3d",
       "Cicek et al. 2016, 3D U-Net: Learning Dense Volumetric Segmentation from "
       "Sparse Annotation, Fig. 1 (channel widths)",
       {nc(32, {12, 20, 20}), nc(64, {12, 20, 20}), nc(64, {6, 10, 10}), nc(128, {6, 10, 10}),
        nc(128, {3, 5, 5}), nc(256, {3, 5, 5}), nc(256, {1, 2, 2}), nc(512, {1, 2, 2})}});
  // M5 on one second of 8 kHz audio (8000 samples; first convolution 80 wide,
  // stride 4; pooling by 4 between the blocks).
  out.push_back({"m5-audio",
                 "Dai et al. 2017, Very Deep Convolutional Neural Networks for Raw Waveforms, "
                 "Table 1 (M5)",
                 {nc(128, {1981}), nc(128, {495}), nc(256, {123}), nc(512, {30})}});
  return out;
}

// The (dtype, layout) pairs a kernel declares for an operation, commonest first.
std::vector<std::pair<dtype, layout>> declared_pairs(const bnc_capabilities& caps,
                                                     std::uint32_t operation) {
  std::vector<std::pair<dtype, layout>> out;
  for (const dtype t : {dtype::f32, dtype::bf16, dtype::f16, dtype::f64}) {
    for (const layout l : {layout::channels_first, layout::channels_last}) {
      if (declared(caps, {operation, t, l})) out.emplace_back(t, l);
    }
  }
  return out;
}

bool rank_declared(const bnc_capabilities& caps, std::size_t rank) {
  return static_cast<std::int64_t>(rank) >= caps.min_rank &&
         static_cast<std::int64_t>(rank) <= caps.max_rank;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (const std::int64_t e : shape) out += (out.empty() ? "" : "x") + std::to_string(e);
  return out;
}

item make_item(const std::string& prefix, const problem& p) {
  const std::vector<std::int64_t> shape(p.shape().begin(), p.shape().end());
  return {group::realistic,
          "realistic/" + prefix + "/" + shape_text(shape) + " " +
              std::string(name_of(p.data_type())) + " " + std::string(name_of(p.layout())) + " " +
              std::string(name_of(p.mode())),
          p.to_string()};
}

problem problem_of(const std::vector<std::int64_t>& shape, dtype t, layout l, mode m,
                   const settings& s) {
  return problem::parse("shape=" + shape_text(shape) + ",dtype=" + std::string(name_of(t)) +
                        ",layout=" + std::string(name_of(l)) + ",mode=" + std::string(name_of(m)) +
                        ",profile=" + s.profile);
}

// A training step where the kernel declares training, else an eval step.
std::pair<mode, std::vector<std::pair<dtype, layout>>> step_pairs(const bnc_capabilities& caps) {
  std::vector<std::pair<dtype, layout>> pairs = declared_pairs(caps, BNC_OP_FORWARD_TRAINING);
  if (!pairs.empty()) return {mode::training, pairs};
  return {mode::eval, declared_pairs(caps, BNC_OP_FORWARD_EVAL)};
}

void add_network_items(const bnc_capabilities& caps, const settings& s, std::vector<item>& out) {
  const auto [m, pairs] = step_pairs(caps);
  if (pairs.empty()) return;
  for (const network_layers& net : realistic_networks()) {
    std::vector<std::vector<std::int64_t>> shapes;
    for (const auto& shape : net.shapes) {
      if (rank_declared(caps, shape.size())) shapes.push_back(shape);
    }
    if (shapes.empty()) continue;
    // Every layer once, every declared pair at least once.
    const std::size_t count = std::max(shapes.size(), pairs.size());
    for (std::size_t j = 0; j < count; ++j) {
      const auto& [t, l] = pairs[j % pairs.size()];
      out.push_back(
          make_item(std::string(net.network), problem_of(shapes[j % shapes.size()], t, l, m, s)));
    }
  }
}

void add_file_items(const bnc_capabilities& caps, const settings& s, std::vector<item>& out) {
  const auto [m, pairs] = step_pairs(caps);
  for (const shape_line& line : read_shapes_file(s.shapes_file)) {
    const std::string prefix = "shapes:" + std::to_string(line.line);
    if (line.exactly) {
      out.push_back(make_item(prefix, *line.exactly));
      continue;
    }
    for (const auto& [t, l] : pairs) {
      out.push_back(make_item(prefix, problem_of(line.shape, t, l, m, s)));
    }
  }
}

}  // namespace

const std::vector<network_layers>& realistic_networks() {
  static const std::vector<network_layers> networks = make_networks();
  return networks;
}

std::vector<item> realistic_items(const bnc_capabilities& caps, const settings& s) {
  std::vector<item> out;
  if (s.shapes_file.empty()) {
    add_network_items(caps, s, out);
  } else {
    add_file_items(caps, s, out);
  }
  if (out.empty()) {
    // Reported as unsupported, so that a reader sees that the group did not run.
    out.push_back({group::realistic, "realistic/nothing-declared", ""});
  }
  return out;
}

}  // namespace bnconform::certify
