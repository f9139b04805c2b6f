#include "case_generator.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace bnconform::properties {

namespace {

bool declared(std::uint32_t mask, unsigned bit) { return (mask & (1u << bit)) != 0; }

// Channel counts around the widths of vectors and tiles (8, 16, 32, 64 lanes and
// their multiples): one past, one short, and halfway, up to 4096.
const std::vector<std::int64_t> wide_channel_counts{
    17, 23, 24, 31, 33, 40, 47, 63, 65, 96, 127, 129, 200, 255, 257, 1000, 1023, 1025, 4095, 4096};

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t c = 1;
  for (const std::int64_t e : shape) c *= e;
  return c;
}

// Fit the cap: halve the largest spatial extent, then the batch, then the channels.
void fit(std::vector<std::int64_t>& shape, std::int64_t cap, std::int64_t min_batch) {
  while (product(shape) > cap) {
    auto largest = std::max_element(shape.begin() + 2, shape.end());
    if (largest != shape.end() && *largest > 1) {
      *largest = (*largest + 1) / 2;
    } else if (shape[0] > std::max<std::int64_t>(min_batch, 1)) {
      shape[0] = std::max((shape[0] + 1) / 2, min_batch);
    } else {
      shape[1] = std::max<std::int64_t>(1, shape[1] / 2);
    }
  }
}

// 1 to 3 channels of at least `values` each: a batch of 1 to 8, the rest in the
// first spatial extent (the others 1 to 3), odd so that no vector width divides it.
std::vector<std::int64_t> long_channel_shape(int rank, std::int64_t min_batch,
                                             std::int64_t values) {
  std::vector<std::int64_t> shape;
  const std::int64_t n = std::max<std::int64_t>(min_batch, *rc::gen::inRange<std::int64_t>(1, 9));
  shape.push_back(rank == 2 ? values + *rc::gen::inRange<std::int64_t>(0, 64) : n);
  shape.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
  std::int64_t rest = 1;
  for (int d = 3; d < rank; ++d) {
    shape.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
    rest *= shape.back();
  }
  if (rank > 2) {
    const std::int64_t first = (values + n * rest - 1) / (n * rest);
    shape.insert(shape.begin() + 2, (first + *rc::gen::inRange<std::int64_t>(0, 64)) | 1);
  }
  return shape;
}

// What the generator may choose from: the declared capabilities that fit the needs.
struct choices {
  std::vector<dtype> dtypes;
  std::vector<layout> layouts;
  std::vector<mode> modes;
  int min_rank = 2, max_rank = 5;

  bool empty() const {
    return dtypes.empty() || layouts.empty() || modes.empty() || min_rank > max_rank;
  }
};

choices choices_for(const kernel& k, const case_needs& needs) {
  const bnc_capabilities caps = k.capabilities();
  // Shrinking moves toward the first entry of each list: the plainest choice.
  std::vector<dtype> dtypes;
  for (const dtype t : {dtype::f32, dtype::f64, dtype::f16, dtype::bf16}) {
    if (declared(caps.dtypes, static_cast<unsigned>(to_abi(t)))) dtypes.push_back(t);
  }
  std::vector<layout> layouts;
  if (declared(caps.layouts, BNC_LAYOUT_CHANNELS_FIRST)) layouts.push_back(layout::channels_first);
  if (declared(caps.layouts, BNC_LAYOUT_CHANNELS_LAST)) layouts.push_back(layout::channels_last);
  const auto has = [&](std::uint32_t op) { return (caps.operations & op) != 0; };
  std::vector<mode> modes;
  if (has(BNC_OP_FORWARD_TRAINING) && (!needs.backward || has(BNC_OP_BACKWARD_TRAINING)) &&
      !needs.forward_eval) {
    modes.push_back(mode::training);
  }
  if (has(BNC_OP_FORWARD_EVAL) && (!needs.backward || has(BNC_OP_BACKWARD_EVAL)) &&
      !needs.forward_training) {
    modes.push_back(mode::eval);
  }
  return {dtypes, layouts, modes, std::max(2, caps.min_rank), std::min(5, caps.max_rank)};
}

}  // namespace

bool declares_a_case(const kernel& k, const case_needs& needs) {
  return !choices_for(k, needs).empty();
}

rc::Gen<generated_case> case_generator(const kernel& k, const case_needs& needs,
                                       const generation_limits& limits, profile pf) {
  const choices allowed = choices_for(k, needs);
  if (allowed.empty()) {
    return rc::gen::exec([]() -> generated_case { throw rc::GenerationFailure(no_declared_case); });
  }
  const std::vector<dtype>& dtypes = allowed.dtypes;
  const std::vector<layout>& layouts = allowed.layouts;
  const std::vector<mode>& modes = allowed.modes;
  const int min_rank = allowed.min_rank;
  const int max_rank = allowed.max_rank;
  std::vector<value_kind> kinds = needs.kinds;
  if (kinds.empty()) kinds.assign(all_value_kinds().begin(), all_value_kinds().end());

  return rc::gen::resize(
      rc::kNominalSize, rc::gen::exec([=]() {
        problem::fields f;
        f.profile = pf;
        f.data_type = *rc::gen::elementOf(dtypes);
        f.layout = *rc::gen::elementOf(layouts);
        f.mode = *rc::gen::elementOf(modes);
        const int rank = *rc::gen::inRange(min_rank, max_rank + 1);
        // Statistics of the batch in eval need track_running_stats off.
        if (needs.tracking) {
          f.track_running_stats = true;
        } else if (needs.batch_statistics && f.mode == mode::eval) {
          f.track_running_stats = false;
        } else {
          f.track_running_stats = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
        }
        f.affine = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
        f.eps = *rc::gen::weightedElement<double>(
            {{6, 1e-5}, {2, 1e-3}, {2, 0.0}, {1, 0.1}, {1, 1.0}, {1, 1e3}});
        if (needs.momentum_none) {
          f.momentum = std::nullopt;
        } else {
          const int pick = *rc::gen::weightedElement<int>({{4, 0}, {2, 1}, {1, 2}, {1, 3}, {1, 4}});
          f.momentum = pick == 0   ? std::optional(0.1)
                       : pick == 1 ? (pf == profile::pytorch ? std::nullopt : std::optional(0.9))
                       : pick == 2 ? std::optional(0.0)
                       : pick == 3 ? std::optional(1.0)
                                   : std::optional(*rc::gen::inRange(1, 1000) / 1000.0);
        }
        const value_kind kind = *rc::gen::elementOf(kinds);
        // Tiny f32, f16 or bf16 values with eps == 0: the exact variance (near 1e-75
        // for f32 data) underflows the compute type, and every kernel that stores it
        // there gets an infinite invstd where the reference's is finite. Not
        // generated until the error model says how to judge it (properties/README.md,
        // open questions). f64 data goes there: its variance underflows double itself,
        // which the error model judges (docs/tolerance.md).
        if (kind == value_kind::tiny && f.eps == 0 && f.data_type != dtype::f64) f.eps = 1e-5;
        // Tiny f64 data also meets an eps far below any f32 value: the variance and
        // eps then meet below the smallest normal.
        if (kind == value_kind::tiny && f.data_type == dtype::f64 && f.eps != 0 &&
            *rc::gen::inRange(0, 4) == 0) {
          f.eps = 1e-300;
        }
        // Shapes: mostly small; a few degenerate (extents 0 and 1), a few large, a
        // few wide (many channels), a few long (long channels).
        const bool degenerate = needs.min_batch == 0 && *rc::gen::inRange(0, 16) == 0;
        const bool large = !degenerate && *rc::gen::inRange(0, limits.large_one_in) == 0;
        const bool wide = !degenerate && !large && limits.wide_one_in > 0 &&
                          *rc::gen::inRange(0, limits.wide_one_in) == 0;
        const bool long_channels = !degenerate && !large && !wide && limits.long_one_in > 0 &&
                                   *rc::gen::inRange(0, limits.long_one_in) == 0;
        const std::int64_t cap = large || wide ? limits.large_elements : limits.usual_elements;
        const std::int64_t min_batch = std::max<std::int64_t>(needs.min_batch, degenerate ? 0 : 1);
        std::vector<std::int64_t> shape;
        if (long_channels) {
          shape = long_channel_shape(rank, min_batch, limits.long_channel_values);
        } else {
          shape.push_back(*rc::gen::inRange<std::int64_t>(min_batch, large ? 65 : 17));
          shape.push_back(wide ? *rc::gen::elementOf(wide_channel_counts)
                               : *rc::gen::inRange<std::int64_t>(1, large ? 5 : 7));
          for (int d = 2; d < rank; ++d) {
            shape.push_back(*rc::gen::inRange<std::int64_t>(degenerate ? 0 : 1, large ? 33 : 9));
          }
          fit(shape, cap, min_batch);
        }
        f.shape = shape;
        const std::uint64_t seed = *rc::gen::noShrink(
            rc::gen::inRange<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
        return generated_case{problem(f), kind, seed};
      }));
}

}  // namespace bnconform::properties
