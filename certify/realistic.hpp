#pragma once
// The `realistic` group: batch-normalization layers at the shapes real networks
// give them, at batch 32, where remainders after vector and tile widths, long
// reductions and large index ranges live. Each item is one training step (forward
// and backward) of one layer's shape in one dtype and layout, judged by the error
// model like any other call (battery_runner.hpp runs them).
//
// The built-in networks' layers run with (dtype, layout) pairs taken in turn from
// what the kernel declares, so that every network meets every declared pair
// without running every layer in every one. `--shapes FILE` replaces them with a
// user's own shapes (shapes_file.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "plan.hpp"

namespace bnconform::certify {

struct network_layers {
  std::string_view network;                       // "resnet50"
  std::string_view source;                        // where the layer shapes come from
  std::vector<std::vector<std::int64_t>> shapes;  // distinct BN input shapes, N first
};

// ResNet-50, MobileNetV2, a 3D U-Net and a 1-D audio network (M5), at batch 32.
const std::vector<network_layers>& realistic_networks();

// The group's items for a kernel that declares `caps`: the built-in networks, or
// the lines of s.shapes_file when one is given (throws bnconform::error naming the
// file and line of a bad one).
std::vector<item> realistic_items(const bnc_capabilities& caps, const settings& s);

}  // namespace bnconform::certify
