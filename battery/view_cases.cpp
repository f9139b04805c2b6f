#include "view_cases.hpp"

#include <utility>

namespace bnconform::battery {

namespace {

// Dense strides of shape (N, C, S1, ...) in a layout.
std::vector<std::int64_t> dense(const std::vector<std::int64_t>& shape, layout l) {
  problem::fields f;
  f.shape = shape;
  f.layout = l;
  return problem(std::move(f)).element_strides();
}

}  // namespace

std::vector<view_case> view_cases(dtype data_type, profile pf) {
  const auto base = [&](std::vector<std::int64_t> shape, layout l) {
    problem::fields f;
    f.shape = std::move(shape);
    f.layout = l;
    f.data_type = data_type;
    f.profile = pf;
    // The profile's own eps and momentum, as parse() gives them.
    const problem defaults = problem::parse("shape=2x1,profile=" + std::string(name_of(pf)));
    f.eps = defaults.eps();
    f.momentum = defaults.momentum();
    return f;
  };
  std::vector<view_case> out;
  const auto add = [&](std::string name, std::string why, problem::fields f) {
    out.push_back({std::move(name), std::move(why), problem(std::move(f))});
  };
  {
    // (4, 3, 1, 5) dense channels-last, the extent-1 dimension with the stride a
    // permute() leaves it: by strides alone it also reads as channels-first on
    // some checks (pytorch/pytorch#63224). dy and dx get the same view.
    problem::fields f = base({4, 3, 1, 5}, layout::channels_last);
    f.x_strides = dense(f.shape, layout::channels_last);
    f.x_strides[2] = 1;
    f.dy_strides = f.x_strides;
    f.y_strides = f.x_strides;
    f.dx_strides = f.x_strides;
    add("ambiguous-extent-1",
        "channels-last with an extent-1 dimension whose stride looks channels-first", std::move(f));
  }
  {
    // (4, 3, 1, 1): every dense layout is the same memory; the extent-1 strides are
    // whatever the framework left there.
    problem::fields f = base({4, 3, 1, 1}, layout::channels_first);
    f.x_strides = {3, 1, 7, 11};
    f.dy_strides = {3, 1, 3, 3};
    add("spatial-1x1", "a 1x1 feature map with unrelated strides on its extent-1 dimensions",
        std::move(f));
  }
  {
    // x channels-first, dy and dx channels-last (pytorch/pytorch#64100); y
    // channels-last too.
    problem::fields f = base({3, 3, 4, 5}, layout::channels_first);
    f.y_strides = dense(f.shape, layout::channels_last);
    f.dy_strides = f.y_strides;
    f.dx_strides = f.y_strides;
    add("mixed-formats", "x in one memory format, y, dy and dx in the other", std::move(f));
  }
  {
    // Rows of 5 padded to 8, planes of 4 rows padded by 3 elements: elements a
    // kernel must neither read as data nor write.
    problem::fields f = base({3, 3, 4, 5}, layout::channels_first);
    f.x_strides = {3 * 35, 35, 8, 1};
    f.y_strides = {3 * 36 + 2, 36, 8, 1};
    f.dy_strides = f.x_strides;
    f.dx_strides = f.y_strides;
    add("padded-rows", "rows and planes with padding between them", std::move(f));
  }
  {
    // Memory order (C, W, N, H): a permuted view that is dense in neither layout.
    problem::fields f = base({3, 3, 4, 5}, layout::channels_first);
    f.x_strides = {4, 3 * 4 * 5, 1, 3 * 4};
    f.dy_strides = f.x_strides;
    add("permuted", "dimensions in an order that is neither layout", std::move(f));
  }
  {
    // y over x, dx over dy, dense (microsoft/onnxruntime#29790).
    problem::fields f = base({3, 3, 4, 5}, layout::channels_first);
    f.in_place = true;
    add("in-place", "y written over x and dx over dy", std::move(f));
  }
  {
    problem::fields f = base({3, 3, 4, 5}, layout::channels_last);
    f.in_place = true;
    f.x_strides = {4 * 5 * 4, 1, 5 * 4, 4};  // channels-last, C padded from 3 to 4
    f.dy_strides = f.x_strides;
    add("in-place-padded", "in place over channels-last tensors with padded channels",
        std::move(f));
  }
  return out;
}

}  // namespace bnconform::battery
