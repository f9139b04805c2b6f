#pragma once
// One batch-normalization problem: an immutable value with a canonical one-line
// string that parses back to the same value (the repro line of every failure).
//
//   shape=8x3x4x4,layout=channels_first,dtype=f32,mode=train,eps=1e-05,
//   momentum=0.1,affine=true,track=true,profile=pytorch
//
// See docs/problem.md for the grammar.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "dtype.hpp"

namespace bnconform {

enum class layout : std::uint8_t { channels_first, channels_last };
enum class mode : std::uint8_t { training, eval };
enum class profile : std::uint8_t { pytorch, onnx, keras, tf_fused, flax };

std::string_view name_of(layout l);
std::string_view name_of(mode m);
std::string_view name_of(profile p);

class problem {
 public:
  // Everything that defines a problem; defaults are PyTorch's module defaults
  // (parse() gives a profile's own eps and momentum when the string omits them).
  struct fields {
    std::vector<std::int64_t> shape;  // N, C, S1, ..., Sk
    bnconform::layout layout = layout::channels_first;
    dtype data_type = dtype::f32;
    bnconform::mode mode = mode::training;
    double eps = 1e-5;
    std::optional<double> momentum = 0.1;  // nullopt: momentum=None
    bool affine = true;
    bool track_running_stats = true;
    bnconform::profile profile = profile::pytorch;
    // How the data tensors lie in memory (docs/abi.md, "Tensor views"): strides in
    // elements over (N, C, S1, ...), empty for dense in `layout`. in_place: y is
    // written over x (forward), dx over dy (backward); y and dx then take x's and
    // dy's views and their own stay empty.
    std::vector<std::int64_t> x_strides{}, y_strides{}, dy_strides{}, dx_strides{};
    bool in_place = false;
  };

  // The data tensors a view belongs to.
  enum class tensor_role : std::uint8_t { x, y, dy, dx };

  // Validates: rank >= 2, extents >= 0 with a product that fits, eps finite and
  // >= 0, momentum finite in [0, 1]. Throws bnconform::error naming the field.
  explicit problem(fields f);
  static problem parse(std::string_view text);
  std::string to_string() const;

  const fields& spec() const { return f_; }
  std::span<const std::int64_t> shape() const { return f_.shape; }
  int rank() const { return static_cast<int>(f_.shape.size()); }
  bnconform::layout layout() const { return f_.layout; }
  dtype data_type() const { return f_.data_type; }
  dtype stats_type() const { return stats_dtype_for(f_.data_type); }
  bnconform::mode mode() const { return f_.mode; }
  double eps() const { return f_.eps; }
  const std::optional<double>& momentum() const { return f_.momentum; }
  bool affine() const { return f_.affine; }
  bool track_running_stats() const { return f_.track_running_stats; }
  bnconform::profile profile() const { return f_.profile; }

  std::int64_t batch() const { return f_.shape[0]; }
  std::int64_t channels() const { return f_.shape[1]; }
  std::int64_t spatial_size() const { return spatial_; }  // S1 * ... * Sk (1 for rank 2)
  std::int64_t reduction_size() const;                    // m = N * S1 * ... * Sk
  std::int64_t element_count() const { return count_; }   // N * C * S1 * ... * Sk
  // Whether this call normalizes with batch statistics (training, or eval without
  // running statistics).
  bool uses_batch_statistics() const;
  // Memory offset of logical element (n, c, s), s the row-major spatial index.
  std::int64_t offset(std::int64_t n, std::int64_t c, std::int64_t s) const;
  // The element strides of a data tensor over the logical dims (N, C, S1, ...): row
  // major over (N, C, S...) or (N, S..., C) as the layout says.
  std::vector<std::int64_t> element_strides() const;
  // The channel of the element at a memory offset of a data tensor.
  std::int64_t channel_of(std::int64_t memory_index) const;

  // Whether a data tensor comes as anything but dense in `layout`, or in place.
  bool has_views() const;
  // The strides the call passes for a data tensor: its view's, or the dense ones.
  std::vector<std::int64_t> strides_of(tensor_role t) const;
  // Where each element of the dense tensor (in memory order of `layout`) lies in the
  // view's storage, and how many elements that storage has (its span + 1; 0 without
  // elements).
  std::vector<std::int64_t> storage_offsets(tensor_role t) const;
  std::int64_t storage_size(tensor_role t) const;

  problem with_mode(bnconform::mode m) const;
  // The same problem with another shape: the views, which only fit the old shape,
  // are dropped.
  problem with_shape(std::vector<std::int64_t> shape) const;
  // The same problem, dense in `layout` (no views).
  problem without_views() const;

  // The ABI descriptor; it points into this problem's shape, so it is valid while
  // this problem lives.
  bnc_problem to_abi() const;

  bool operator==(const problem& other) const;

 private:
  fields f_;
  // Formed once (the per-element index arithmetic asks for them).
  std::int64_t spatial_ = 1, count_ = 0;
};

// Reads a bnc_problem from a caller, checking every field: a kernel's first step.
// Throws bnconform::error with a message fit for a BNC_STATUS_BAD_ARGUMENT.
problem from_abi(const bnc_problem& p);

}  // namespace bnconform
