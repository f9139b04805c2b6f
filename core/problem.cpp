#include "problem.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>

#include "error.hpp"
#include "float_bits.hpp"

namespace bnconform {

std::string_view name_of(layout l) {
  return l == layout::channels_first ? "channels_first" : "channels_last";
}
std::string_view name_of(mode m) { return m == mode::training ? "train" : "eval"; }
std::string_view name_of(profile p) {
  switch (p) {
    case profile::pytorch: return "pytorch";
    case profile::onnx: return "onnx";
    case profile::keras: return "keras";
    case profile::tf_fused: return "tf-fused";
    case profile::flax: return "flax";
  }
  return "?";
}

namespace {

std::int64_t checked_product(std::span<const std::int64_t> extents) {
  std::int64_t product = 1;
  for (std::int64_t e : extents) {
    if (e != 0 && product > std::numeric_limits<std::int64_t>::max() / e) {
      report_error("shape: the element count overflows 64 bits");
    }
    product *= e;
  }
  return product;
}

// A view's strides (docs/abi.md, "Tensor views"): one per dimension, none negative,
// the last element's byte offset fits in 64 bits, no two elements share memory.
void validate_strides(const problem::fields& f, const char* key,
                      const std::vector<std::int64_t>& strides) {
  if (strides.empty()) return;
  const std::string name(key);
  if (strides.size() != f.shape.size()) {
    report_error(name + ": expected " + std::to_string(f.shape.size()) +
                 " strides (one per dimension of shape), got " + std::to_string(strides.size()));
  }
  for (std::size_t d = 0; d < strides.size(); ++d) {
    if (strides[d] < 0) {
      report_error(name + ": stride " + std::to_string(d) + " is negative (" +
                   std::to_string(strides[d]) + ")");
    }
  }
  // Dimensions of extent > 1 by increasing stride: each must step over the whole of
  // the one before it, or two elements would share memory.
  std::vector<std::size_t> order;
  for (std::size_t d = 0; d < strides.size(); ++d) {
    if (f.shape[d] > 1) order.push_back(d);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return strides[a] < strides[b]; });
  constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 8;
  std::int64_t last = 0;
  for (std::size_t d : order) {
    const std::int64_t reach = f.shape[d] - 1;
    if (strides[d] > 0 && reach > (limit - last) / strides[d]) {
      report_error(name +
                   ": the last element's offset, sum of (extent - 1) * stride, "
                   "overflows 64 bits as a byte offset");
    }
    last += reach * strides[d];
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::size_t d = order[i];
    if (i == 0 && strides[d] == 0) {
      report_error(name + ": dimension " + std::to_string(d) +
                   " has stride 0 (its elements would share memory)");
    }
    if (i + 1 < order.size()) {
      const std::size_t next = order[i + 1];
      if (strides[next] < strides[d] * f.shape[d]) {
        report_error(name + ": dimension " + std::to_string(next) + " (stride " +
                     std::to_string(strides[next]) + ") overlaps dimension " + std::to_string(d) +
                     " (extent " + std::to_string(f.shape[d]) + ", stride " +
                     std::to_string(strides[d]) + "): elements would share memory");
      }
    }
  }
}

void validate_views(const problem::fields& f) {
  validate_strides(f, "x_strides", f.x_strides);
  validate_strides(f, "y_strides", f.y_strides);
  validate_strides(f, "dy_strides", f.dy_strides);
  validate_strides(f, "dx_strides", f.dx_strides);
  if (f.in_place && (!f.y_strides.empty() || !f.dx_strides.empty())) {
    report_error(
        "in_place: y and dx are written over x and dy and take their views; give x_strides and "
        "dy_strides only");
  }
}

void validate(const problem::fields& f) {
  if (f.shape.size() < 2) {
    report_error("shape: expected rank >= 2 (N, C, ...), got rank " +
                 std::to_string(f.shape.size()));
  }
  for (std::size_t i = 0; i < f.shape.size(); ++i) {
    if (f.shape[i] < 0) {
      report_error("shape: extent " + std::to_string(i) + " is negative (" +
                   std::to_string(f.shape[i]) + ")");
    }
  }
  // Every product of extents (N * S, S, N * C * S) must fit, also when another
  // extent is 0: check the product with zeros counted as ones.
  std::vector<std::int64_t> nonzero(f.shape);
  for (std::int64_t& e : nonzero) e = std::max<std::int64_t>(e, 1);
  checked_product(nonzero);
  if (!std::isfinite(f.eps) || f.eps < 0) {
    report_error("eps: must be finite and >= 0, got " + shortest_decimal(f.eps, dtype::f64));
  }
  if (f.momentum && !(*f.momentum >= 0 && *f.momentum <= 1)) {
    report_error("momentum: must be in [0, 1] or none, got " +
                 shortest_decimal(*f.momentum, dtype::f64));
  }
  validate_views(f);
}

bool parse_bool(std::string_view key, std::string_view value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  report_error(std::string(key) + ": expected true or false, got '" + std::string(value) + "'");
}

std::vector<std::int64_t> parse_extents(std::string_view key, std::string_view value) {
  std::vector<std::int64_t> shape;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = value.find('x', start);
    const std::string_view token = value.substr(start, end - start);
    std::int64_t extent = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), extent);
    if (token.empty() || ec != std::errc{} || ptr != token.data() + token.size()) {
      report_error(std::string(key) + ": '" + std::string(value) +
                   "' is not a list of integers joined by 'x' (e.g. 8x3x4x4)");
    }
    shape.push_back(extent);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return shape;
}

layout parse_layout(std::string_view v) {
  for (std::string_view s : {"channels_first", "cf", "nchw", "ncl", "ncdhw", "nc"}) {
    if (v == s) return layout::channels_first;
  }
  for (std::string_view s : {"channels_last", "cl", "nhwc", "nlc", "ndhwc"}) {
    if (v == s) return layout::channels_last;
  }
  report_error("layout: unknown '" + std::string(v) +
               "' (expected channels_first or channels_last)");
}

mode parse_mode(std::string_view v) {
  if (v == "train" || v == "training") return mode::training;
  if (v == "eval") return mode::eval;
  report_error("mode: unknown '" + std::string(v) + "' (expected train or eval)");
}

profile parse_profile(std::string_view v) {
  for (profile p :
       {profile::pytorch, profile::onnx, profile::keras, profile::tf_fused, profile::flax}) {
    if (v == name_of(p)) return p;
  }
  report_error("profile: unknown '" + std::string(v) +
               "' (expected pytorch, onnx, keras, tf-fused or flax)");
}

struct profile_defaults {
  double eps;
  double momentum;
};

profile_defaults defaults_of(profile p) {
  switch (p) {
    case profile::pytorch: return {1e-5, 0.1};
    case profile::onnx: return {1e-5, 0.9};      // momentum weights the old value
    case profile::keras: return {1e-3, 0.99};    // momentum weights the old value
    case profile::tf_fused: return {1e-4, 1.0};  // the op's epsilon, exponential_avg_factor
    case profile::flax: return {1e-5, 0.99};     // momentum weights the old value
  }
  return {1e-5, 0.1};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

problem::problem(fields f) : f_(std::move(f)) {
  validate(f_);
  spatial_ = checked_product(std::span(f_.shape).subspan(2));
  count_ = checked_product(f_.shape);
}

problem problem::parse(std::string_view text) {
  fields f;
  std::map<std::string, std::string, std::less<>> seen;
  bool has_shape = false;
  std::size_t start = 0;
  text = trim(text);
  if (text.empty()) report_error("problem string is empty (it needs at least shape=...)");
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, end - start));
    start = end + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      report_error("problem string: '" + std::string(item) + "' is not key=value");
    }
    const std::string key(trim(item.substr(0, eq)));
    const std::string_view value = trim(item.substr(eq + 1));
    if (!seen.emplace(key, value).second) report_error("problem string: '" + key + "' given twice");
    if (key == "shape") {
      f.shape = parse_extents(key, value);
      has_shape = true;
    } else if (key == "layout") {
      f.layout = parse_layout(value);
    } else if (key == "dtype") {
      f.data_type = parse_dtype(value);
    } else if (key == "mode") {
      f.mode = parse_mode(value);
    } else if (key == "eps") {
      f.eps = parse_real(value, "eps");
    } else if (key == "momentum") {
      f.momentum = value == "none" ? std::nullopt : std::optional(parse_real(value, "momentum"));
    } else if (key == "affine") {
      f.affine = parse_bool(key, value);
    } else if (key == "track") {
      f.track_running_stats = parse_bool(key, value);
    } else if (key == "profile") {
      f.profile = parse_profile(value);
    } else if (key == "x_strides") {
      f.x_strides = parse_extents(key, value);
    } else if (key == "y_strides") {
      f.y_strides = parse_extents(key, value);
    } else if (key == "dy_strides") {
      f.dy_strides = parse_extents(key, value);
    } else if (key == "dx_strides") {
      f.dx_strides = parse_extents(key, value);
    } else if (key == "in_place") {
      f.in_place = parse_bool(key, value);
    } else {
      report_error("problem string: unknown key '" + key +
                   "' (known: shape, layout, dtype, mode, eps, momentum, affine, track, profile, "
                   "x_strides, y_strides, dy_strides, dx_strides, in_place)");
    }
  }
  if (!has_shape) report_error("problem string: shape=... is required");
  // semantics.md#conventions-by-profile: a profile's own defaults where the string
  // leaves eps or momentum out (the canonical string always states both).
  const profile_defaults d = defaults_of(f.profile);
  if (!seen.contains("eps")) f.eps = d.eps;
  if (!seen.contains("momentum")) f.momentum = d.momentum;
  return problem(std::move(f));
}

std::string problem::to_string() const {
  std::string s = "shape=";
  for (std::size_t i = 0; i < f_.shape.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(f_.shape[i]);
  }
  s += ",layout=" + std::string(name_of(f_.layout));
  s += ",dtype=" + std::string(name_of(f_.data_type));
  s += ",mode=" + std::string(name_of(f_.mode));
  s += ",eps=" + shortest_decimal(f_.eps, dtype::f64);
  s += ",momentum=" + (f_.momentum ? shortest_decimal(*f_.momentum, dtype::f64) : "none");
  s += std::string(",affine=") + (f_.affine ? "true" : "false");
  s += std::string(",track=") + (f_.track_running_stats ? "true" : "false");
  s += ",profile=" + std::string(name_of(f_.profile));
  const auto view = [&s](const char* key, const std::vector<std::int64_t>& strides) {
    if (strides.empty()) return;
    s += std::string(",") + key + "=";
    for (std::size_t i = 0; i < strides.size(); ++i) {
      if (i > 0) s += 'x';
      s += std::to_string(strides[i]);
    }
  };
  view("x_strides", f_.x_strides);
  view("y_strides", f_.y_strides);
  view("dy_strides", f_.dy_strides);
  view("dx_strides", f_.dx_strides);
  if (f_.in_place) s += ",in_place=true";
  return s;
}

bool problem::has_views() const {
  return f_.in_place || !f_.x_strides.empty() || !f_.y_strides.empty() || !f_.dy_strides.empty() ||
         !f_.dx_strides.empty();
}

std::vector<std::int64_t> problem::strides_of(tensor_role t) const {
  const std::vector<std::int64_t>* given = nullptr;
  switch (t) {
    case tensor_role::x: given = &f_.x_strides; break;
    case tensor_role::y: given = f_.in_place ? &f_.x_strides : &f_.y_strides; break;
    case tensor_role::dy: given = &f_.dy_strides; break;
    case tensor_role::dx: given = f_.in_place ? &f_.dy_strides : &f_.dx_strides; break;
  }
  return given->empty() ? element_strides() : *given;
}

std::vector<std::int64_t> problem::storage_offsets(tensor_role t) const {
  const std::vector<std::int64_t> strides = strides_of(t);
  const std::vector<std::int64_t> dense = element_strides();
  const std::size_t rank = f_.shape.size();
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(count_));
  // Walk the logical index (n, c, s1, ...) in row-major order and place each element
  // at its dense memory index.
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t visited = 0; visited < count_; ++visited) {
    std::int64_t at_dense = 0, at_view = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      at_dense += index[d] * dense[d];
      at_view += index[d] * strides[d];
    }
    offsets[static_cast<std::size_t>(at_dense)] = at_view;
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < f_.shape[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

std::int64_t problem::storage_size(tensor_role t) const {
  if (count_ == 0) return 0;
  const std::vector<std::int64_t> strides = strides_of(t);
  std::int64_t last = 0;
  for (std::size_t d = 0; d < strides.size(); ++d) last += (f_.shape[d] - 1) * strides[d];
  return last + 1;
}

std::int64_t problem::reduction_size() const { return batch() * spatial_; }

bool problem::uses_batch_statistics() const {
  return f_.mode == mode::training || !f_.track_running_stats;
}

std::int64_t problem::offset(std::int64_t n, std::int64_t c, std::int64_t s) const {
  const std::int64_t spatial = spatial_size();
  return f_.layout == layout::channels_first ? (n * channels() + c) * spatial + s
                                             : (n * spatial + s) * channels() + c;
}

std::vector<std::int64_t> problem::element_strides() const {
  const std::size_t rank = f_.shape.size();
  std::vector<std::int64_t> strides(rank);
  std::int64_t s = 1;
  const std::size_t innermost = f_.layout == layout::channels_first ? 0 : 2;
  if (f_.layout == layout::channels_last) {
    strides[1] = s;
    s *= f_.shape[1];
  }
  for (std::size_t d = rank; d-- > innermost;) {
    strides[d] = s;
    s *= f_.shape[d];
  }
  if (f_.layout == layout::channels_last) strides[0] = s;
  return strides;
}

std::int64_t problem::channel_of(std::int64_t memory_index) const {
  if (f_.layout == layout::channels_last) return memory_index % channels();
  return (memory_index / spatial_size()) % channels();
}

problem problem::with_mode(bnconform::mode m) const {
  fields f = f_;
  f.mode = m;
  return problem(std::move(f));
}

problem problem::with_shape(std::vector<std::int64_t> shape) const {
  fields f = without_views().f_;
  f.shape = std::move(shape);
  return problem(std::move(f));
}

problem problem::without_views() const {
  fields f = f_;
  f.x_strides.clear();
  f.y_strides.clear();
  f.dy_strides.clear();
  f.dx_strides.clear();
  f.in_place = false;
  return problem(std::move(f));
}

bool problem::operator==(const problem& o) const {
  // Compare eps and momentum bitwise so that the canonical string is a faithful
  // identity (validation excludes NaN).
  return f_.shape == o.f_.shape && f_.layout == o.f_.layout && f_.data_type == o.f_.data_type &&
         f_.mode == o.f_.mode &&
         std::bit_cast<std::uint64_t>(f_.eps) == std::bit_cast<std::uint64_t>(o.f_.eps) &&
         f_.momentum.has_value() == o.f_.momentum.has_value() &&
         (!f_.momentum || std::bit_cast<std::uint64_t>(*f_.momentum) ==
                              std::bit_cast<std::uint64_t>(*o.f_.momentum)) &&
         f_.affine == o.f_.affine && f_.track_running_stats == o.f_.track_running_stats &&
         f_.profile == o.f_.profile && f_.x_strides == o.f_.x_strides &&
         f_.y_strides == o.f_.y_strides && f_.dy_strides == o.f_.dy_strides &&
         f_.dx_strides == o.f_.dx_strides && f_.in_place == o.f_.in_place;
}

bnc_problem problem::to_abi() const {
  bnc_problem p{};
  p.struct_size = sizeof(bnc_problem);
  p.rank = rank();
  p.shape = f_.shape.data();
  p.layout =
      f_.layout == layout::channels_first ? BNC_LAYOUT_CHANNELS_FIRST : BNC_LAYOUT_CHANNELS_LAST;
  p.data_dtype = bnconform::to_abi(f_.data_type);
  p.stats_dtype = bnconform::to_abi(stats_type());
  p.mode = f_.mode == mode::training ? BNC_MODE_TRAINING : BNC_MODE_EVAL;
  p.profile = static_cast<bnc_profile>(f_.profile);
  p.eps = f_.eps;
  p.momentum = f_.momentum.value_or(0.0);
  p.momentum_is_none = f_.momentum ? 0 : 1;
  p.affine = f_.affine ? 1 : 0;
  p.track_running_stats = f_.track_running_stats ? 1 : 0;
  return p;
}

namespace {
// A C caller may store any integer in an enum field; loading it as the C++ enum
// type is undefined behaviour when it is out of range, so read the raw bits.
template <class Enum>
int raw_value(const Enum& field) {
  std::underlying_type_t<Enum> value;
  std::memcpy(&value, &field, sizeof value);
  return static_cast<int>(value);
}
}  // namespace

problem from_abi(const bnc_problem& p) {
  if (p.struct_size < sizeof(bnc_problem)) {
    report_error("bnc_problem.struct_size is " + std::to_string(p.struct_size) + ", expected " +
                 std::to_string(sizeof(bnc_problem)));
  }
  if (p.rank < 2) {
    report_error("expected input of rank >= 2 (N, C, ...), got rank " + std::to_string(p.rank));
  }
  if (p.shape == nullptr) report_error("bnc_problem.shape is NULL");
  problem::fields f;
  f.shape.assign(p.shape, p.shape + p.rank);
  const int layout_value = raw_value(p.layout);
  if (layout_value != BNC_LAYOUT_CHANNELS_FIRST && layout_value != BNC_LAYOUT_CHANNELS_LAST) {
    report_error("unknown bnc_layout value " + std::to_string(layout_value));
  }
  f.layout =
      layout_value == BNC_LAYOUT_CHANNELS_FIRST ? layout::channels_first : layout::channels_last;
  const auto checked_dtype = [](int value) {
    if (value < BNC_DTYPE_F64 || value > BNC_DTYPE_BF16) {
      report_error("unknown bnc_dtype value " + std::to_string(value));
    }
    return from_abi(static_cast<bnc_dtype>(value));
  };
  f.data_type = checked_dtype(raw_value(p.data_dtype));
  const dtype stats = checked_dtype(raw_value(p.stats_dtype));
  if (stats != stats_dtype_for(f.data_type)) {
    report_error("stats dtype " + std::string(name_of(stats)) + " does not go with data dtype " +
                 std::string(name_of(f.data_type)) +
                 " (f64 data takes f64 statistics, every other dtype f32)");
  }
  const int mode_value = raw_value(p.mode);
  if (mode_value != BNC_MODE_TRAINING && mode_value != BNC_MODE_EVAL) {
    report_error("unknown bnc_mode value " + std::to_string(mode_value));
  }
  f.mode = mode_value == BNC_MODE_TRAINING ? mode::training : mode::eval;
  const int profile_value = raw_value(p.profile);
  if (profile_value < BNC_PROFILE_PYTORCH || profile_value > BNC_PROFILE_FLAX) {
    report_error("unknown bnc_profile value " + std::to_string(profile_value));
  }
  f.profile = static_cast<profile>(profile_value);
  f.eps = p.eps;
  f.momentum = p.momentum_is_none ? std::nullopt : std::optional(p.momentum);
  f.affine = p.affine != 0;
  f.track_running_stats = p.track_running_stats != 0;
  return problem(std::move(f));
}

}  // namespace bnconform
