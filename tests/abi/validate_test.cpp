// include/bnconform/validate.h: each malformed argument of docs/abi.md ("Validating
// arguments"), one at a time, gets its status and a message that starts with the
// clause's name; the boundary values the ABI allows are accepted; every clause of
// both tables is exercised; and each copy of a table with one clause dropped (a
// deliberately broken validator) fails at least one case.
#include "bnconform/validate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "validate_c99.h"

namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_value = std::numeric_limits<double>::infinity();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// A value outside an ABI enum, as a C caller can store one.
template <class Enum>
void set_raw(Enum& field, int value) {
  static_assert(sizeof(Enum) == sizeof(int));
  std::memcpy(&field, &value, sizeof value);
}

// A valid 2x3x2 f32 call in training with every buffer (affine, tracking): forward
// and backward arguments both; each case breaks one thing.
struct call_data {
  std::array<std::int64_t, 3> shape{2, 3, 2};
  // Room for a padded view of the 12 elements.
  std::array<double, 16> x{}, y{}, dy{}, dx{};
  std::array<float, 3> gamma{}, beta{}, running_mean{}, running_var{}, save_mean{}, save_invstd{},
      dgamma{}, dbeta{};
  std::int64_t counter = 7;
  bnc_problem problem{};
  bnc_forward_args forward{};
  bnc_backward_args backward{};
  bnc_problem* problem_pointer = &problem;
  bnc_forward_args* forward_pointer = &forward;
  bnc_backward_args* backward_pointer = &backward;
  std::int32_t keeps_module_state = 1;
  std::uint32_t features = 0;  // the kernel's, for the declared clauses
  // Views (ABI 1.1): set by a case, pointed to by the arguments.
  std::array<std::int64_t, 3> x_strides{}, y_strides{}, dy_strides{}, dx_strides{};
  bnc_communicator communicator{};

  call_data() {
    problem = {sizeof(bnc_problem),
               3,
               shape.data(),
               BNC_LAYOUT_CHANNELS_FIRST,
               BNC_DTYPE_F32,
               BNC_DTYPE_F32,
               BNC_MODE_TRAINING,
               BNC_PROFILE_PYTORCH,
               1e-5,
               0.1,
               0,
               1,
               1};
    forward = {sizeof(bnc_forward_args),
               x.data(),
               y.data(),
               gamma.data(),
               beta.data(),
               running_mean.data(),
               running_var.data(),
               save_mean.data(),
               save_invstd.data(),
               &counter,
               0.1,
               nullptr,
               nullptr,
               nullptr,
               nullptr};
    backward = {sizeof(bnc_backward_args),
                x.data(),
                dy.data(),
                dx.data(),
                gamma.data(),
                save_mean.data(),
                save_invstd.data(),
                running_mean.data(),
                running_var.data(),
                dgamma.data(),
                dbeta.data(),
                nullptr,
                nullptr,
                nullptr,
                nullptr,
                nullptr};
  }
  call_data(const call_data&) = delete;
  call_data& operator=(const call_data&) = delete;

  // Gives the arguments views with these strides (channels-first dense is {6, 2, 1}).
  void view_x(std::array<std::int64_t, 3> s) {
    x_strides = s;
    forward.x_strides = backward.x_strides = x_strides.data();
  }
  void view_y(std::array<std::int64_t, 3> s) {
    y_strides = s;
    forward.y_strides = y_strides.data();
  }
  void view_dx(std::array<std::int64_t, 3> s) {
    dx_strides = s;
    backward.dx_strides = dx_strides.data();
  }
  // A well-formed communicator of `size` ranks for both directions.
  void distribute(std::int32_t rank, std::int32_t size);

  bnc_call as_forward() const {
    return bnc_forward_call(problem_pointer, forward_pointer, keeps_module_state);
  }
  bnc_call as_backward() const { return bnc_backward_call(problem_pointer, backward_pointer); }
};

bnc_status sum_nothing(void*, void*, std::int64_t, bnc_element) { return BNC_STATUS_OK; }
bnc_status gather_nothing(void*, const void*, void*, std::int64_t, bnc_element) {
  return BNC_STATUS_OK;
}

void call_data::distribute(std::int32_t rank, std::int32_t size) {
  communicator = {sizeof(bnc_communicator), rank, size, nullptr, sum_nothing, gather_nothing};
  forward.communicator = backward.communicator = &communicator;
}

// `both`: a descriptor case, run as a forward and as a backward call.
enum class direction { forward, backward, both };

struct broken_case {
  std::string what;
  direction dir;
  bnc_status expected;
  const char* clause;  // the clause the message must start with; nullptr when accepted
  std::function<void(call_data&)> make;
};

std::ostream& operator<<(std::ostream& out, const broken_case& c) { return out << c.what; }

constexpr auto fwd = direction::forward;
constexpr auto bwd = direction::backward;
constexpr auto both = direction::both;
constexpr auto bad = BNC_STATUS_BAD_ARGUMENT;
constexpr auto invalid = BNC_STATUS_INVALID_PROBLEM;
constexpr auto ok = BNC_STATUS_OK;

void set_dtypes(call_data& c, bnc_dtype data, bnc_dtype stats) {
  c.problem.data_dtype = data;
  c.problem.stats_dtype = stats;
}

// The malformed arguments, one at a time, and the calls at the ABI's boundaries that
// must be accepted.
std::vector<broken_case> cases() {
  std::vector<broken_case> v = {
      // The descriptor.
      {"problem_null", both, bad, "problem_not_null", [](call_data& c) { c.problem_pointer = nullptr; }},
      {"problem_struct_size_8", both, bad, "problem_struct_size",
       [](call_data& c) { c.problem.struct_size = 8; }},
      {"problem_struct_size_one_short", both, bad, "problem_struct_size",
       [](call_data& c) { c.problem.struct_size = sizeof(bnc_problem) - 1; }},
      {"rank_1", both, bad, "rank_at_least_2", [](call_data& c) { c.problem.rank = 1; }},
      {"rank_0", both, bad, "rank_at_least_2", [](call_data& c) { c.problem.rank = 0; }},
      {"rank_negative", both, bad, "rank_at_least_2", [](call_data& c) { c.problem.rank = -3; }},
      {"shape_null", both, bad, "shape_not_null", [](call_data& c) { c.problem.shape = nullptr; }},
      {"n_negative", both, bad, "extents_not_negative", [](call_data& c) { c.shape[0] = -1; }},
      {"c_negative", both, bad, "extents_not_negative", [](call_data& c) { c.shape[1] = -3; }},
      {"spatial_negative", both, bad, "extents_not_negative",
       [](call_data& c) { c.shape[2] = std::numeric_limits<std::int64_t>::min(); }},
      {"element_count_overflows", both, bad, "element_count_fits",
       [](call_data& c) { c.shape = {std::int64_t{1} << 40, 3, std::int64_t{1} << 23}; }},
      {"element_count_overflows_beside_a_zero", both, bad, "element_count_fits",
       [](call_data& c) { c.shape = {std::int64_t{1} << 40, 0, std::int64_t{1} << 40}; }},
      {"layout_2", both, bad, "layout_known", [](call_data& c) { set_raw(c.problem.layout, 2); }},
      {"layout_negative", both, bad, "layout_known",
       [](call_data& c) { set_raw(c.problem.layout, -1); }},
      {"data_dtype_4", both, bad, "data_dtype_known",
       [](call_data& c) { set_raw(c.problem.data_dtype, 4); }},
      {"data_dtype_negative", both, bad, "data_dtype_known",
       [](call_data& c) { set_raw(c.problem.data_dtype, -1); }},
      {"stats_dtype_9", both, bad, "stats_dtype_known",
       [](call_data& c) { set_raw(c.problem.stats_dtype, 9); }},
      {"f32_data_f64_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F32, BNC_DTYPE_F64); }},
      {"f64_data_f32_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F64, BNC_DTYPE_F32); }},
      {"f16_data_f16_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F16, BNC_DTYPE_F16); }},
      {"f16_data_f64_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F16, BNC_DTYPE_F64); }},
      {"bf16_data_bf16_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_BF16, BNC_DTYPE_BF16); }},
      {"bf16_data_f64_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_BF16, BNC_DTYPE_F64); }},
      {"f64_data_f16_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F64, BNC_DTYPE_F16); }},
      {"f32_data_bf16_stats", both, bad, "dtype_pair",
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F32, BNC_DTYPE_BF16); }},
      {"mode_2", both, bad, "mode_known", [](call_data& c) { set_raw(c.problem.mode, 2); }},
      {"mode_negative", both, bad, "mode_known", [](call_data& c) { set_raw(c.problem.mode, -1); }},
      {"profile_5", both, bad, "profile_known", [](call_data& c) { set_raw(c.problem.profile, 5); }},
      {"profile_negative", both, bad, "profile_known",
       [](call_data& c) { set_raw(c.problem.profile, -1); }},
      {"eps_negative", both, bad, "eps_finite_nonnegative",
       [](call_data& c) { c.problem.eps = -1e-5; }},
      {"eps_negative_zero_is_zero", both, ok, nullptr, [](call_data& c) { c.problem.eps = -0.0; }},
      {"eps_nan", both, bad, "eps_finite_nonnegative",
       [](call_data& c) { c.problem.eps = nan_value; }},
      {"eps_inf", both, bad, "eps_finite_nonnegative",
       [](call_data& c) { c.problem.eps = inf_value; }},
      {"eps_minus_inf", both, bad, "eps_finite_nonnegative",
       [](call_data& c) { c.problem.eps = -inf_value; }},
      {"momentum_negative", both, bad, "momentum_in_unit_interval",
       [](call_data& c) { c.problem.momentum = -0.1; }},
      {"momentum_above_one", both, bad, "momentum_in_unit_interval",
       [](call_data& c) { c.problem.momentum = 1.5; }},
      {"momentum_nan", both, bad, "momentum_in_unit_interval",
       [](call_data& c) { c.problem.momentum = nan_value; }},
      {"momentum_inf", both, bad, "momentum_in_unit_interval",
       [](call_data& c) { c.problem.momentum = inf_value; }},
      {"momentum_nan_ignored_when_none", both, ok, nullptr,
       [](call_data& c) {
         c.problem.momentum = nan_value;
         c.problem.momentum_is_none = 1;
       }},
      {"momentum_0", both, ok, nullptr, [](call_data& c) { c.problem.momentum = 0; }},
      {"momentum_1", both, ok, nullptr, [](call_data& c) { c.problem.momentum = 1; }},
      {"eps_0", both, ok, nullptr, [](call_data& c) { c.problem.eps = 0; }},
      {"bf16_pair", both, ok, nullptr,
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_BF16, BNC_DTYPE_F32); }},
      {"f64_pair", both, ok, nullptr,
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F64, BNC_DTYPE_F64); }},
      {"f16_pair", both, ok, nullptr,
       [](call_data& c) { set_dtypes(c, BNC_DTYPE_F16, BNC_DTYPE_F32); }},
      {"channels_last_tf_fused_eval", both, ok, nullptr,
       [](call_data& c) {
         c.problem.layout = BNC_LAYOUT_CHANNELS_LAST;
         c.problem.profile = BNC_PROFILE_TF_FUSED;
         c.problem.mode = BNC_MODE_EVAL;
       }},
      {"flax_profile", both, ok, nullptr,
       [](call_data& c) { c.problem.profile = BNC_PROFILE_FLAX; }},
      {"rank_2", both, ok, nullptr,
       [](call_data& c) {
         c.problem.rank = 2;
         c.shape = {4, 3, -1};  // only the first two are read
       }},
      // The forward arguments.
      {"args_null", fwd, bad, "args_not_null", [](call_data& c) { c.forward_pointer = nullptr; }},
      {"args_struct_size_8", fwd, bad, "args_struct_size",
       [](call_data& c) { c.forward.struct_size = 8; }},
      {"x_null", fwd, bad, "x_not_null", [](call_data& c) { c.forward.x = nullptr; }},
      {"y_null", fwd, bad, "y_not_null", [](call_data& c) { c.forward.y = nullptr; }},
      {"gamma_null", fwd, bad, "gamma_not_null", [](call_data& c) { c.forward.gamma = nullptr; }},
      {"beta_null", fwd, bad, "beta_not_null", [](call_data& c) { c.forward.beta = nullptr; }},
      {"running_mean_null", fwd, bad, "running_mean_not_null",
       [](call_data& c) { c.forward.running_mean = nullptr; }},
      {"running_var_null_in_eval", fwd, bad, "running_var_not_null",
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.forward.running_var = nullptr;
       }},
      {"save_mean_null", fwd, bad, "save_mean_not_null",
       [](call_data& c) { c.forward.save_mean = nullptr; }},
      {"save_invstd_null_in_eval_without_tracking", fwd, bad, "save_invstd_not_null",
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.problem.track_running_stats = 0;
         c.forward.save_invstd = nullptr;
       }},
      {"counter_null", fwd, bad, "counter_not_null",
       [](call_data& c) { c.forward.num_batches_tracked = nullptr; }},
      {"counter_negative", fwd, bad, "counter_in_range", [](call_data& c) { c.counter = -1; }},
      {"counter_max", fwd, bad, "counter_in_range", [](call_data& c) { c.counter = int64_max; }},
      {"counter_negative_in_eval", fwd, bad, "counter_in_range",
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.counter = -5;
       }},
      {"factor_nan", fwd, bad, "factor_in_unit_interval",
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.forward.exponential_average_factor = nan_value;
       }},
      {"factor_negative", fwd, bad, "factor_in_unit_interval",
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.forward.exponential_average_factor = -0.25;
       }},
      {"factor_above_one", fwd, bad, "factor_in_unit_interval",
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.forward.exponential_average_factor = 1.0000001;
       }},
      {"one_value_per_channel_training", fwd, invalid, "more_than_one_value_per_channel",
       [](call_data& c) { c.shape = {1, 3, 1}; }},
      {"one_value_per_channel_eval_without_tracking", fwd, invalid,
       "more_than_one_value_per_channel",
       [](call_data& c) {
         c.shape = {1, 3, 1};
         c.problem.mode = BNC_MODE_EVAL;
         c.problem.track_running_stats = 0;
         c.forward.running_mean = c.forward.running_var = nullptr;
         c.forward.num_batches_tracked = nullptr;
       }},
      // Forward calls the ABI allows.
      {"counter_max_minus_one", fwd, ok, nullptr, [](call_data& c) { c.counter = int64_max - 1; }},
      {"counter_0", fwd, ok, nullptr, [](call_data& c) { c.counter = 0; }},
      {"counter_ignored_without_module_state", fwd, ok, nullptr,
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.forward.num_batches_tracked = nullptr;
       }},
      {"factor_ignored_with_module_state", fwd, ok, nullptr,
       [](call_data& c) { c.forward.exponential_average_factor = nan_value; }},
      {"factor_ignored_in_eval", fwd, ok, nullptr,
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.problem.mode = BNC_MODE_EVAL;
         c.forward.exponential_average_factor = nan_value;
       }},
      {"factor_1", fwd, ok, nullptr,
       [](call_data& c) {
         c.keeps_module_state = 0;
         c.forward.exponential_average_factor = 1;
       }},
      {"one_value_per_channel_eval_with_tracking", fwd, ok, nullptr,
       [](call_data& c) {
         c.shape = {1, 3, 1};
         c.problem.mode = BNC_MODE_EVAL;
       }},
      {"no_affine_no_tracking", fwd, ok, nullptr,
       [](call_data& c) {
         c.problem.affine = 0;
         c.problem.track_running_stats = 0;
         c.forward.gamma = c.forward.beta = nullptr;
         c.forward.running_mean = c.forward.running_var = nullptr;
         c.forward.num_batches_tracked = nullptr;
       }},
      {"eval_with_tracking_needs_no_saved_statistics", fwd, ok, nullptr,
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.forward.save_mean = c.forward.save_invstd = nullptr;
       }},
      {"empty_batch_needs_no_data", fwd, ok, nullptr,
       [](call_data& c) {
         c.shape = {0, 3, 2};
         c.forward.x = nullptr;
         c.forward.y = nullptr;
       }},
      {"no_channels_need_no_data", fwd, ok, nullptr,
       [](call_data& c) {
         c.shape = {2, 0, 2};
         c.forward.x = nullptr;
         c.forward.y = nullptr;
       }},
      {"largest_element_count", fwd, ok, nullptr,
       [](call_data& c) { c.shape = {std::int64_t{1} << 40, 0, (std::int64_t{1} << 23) - 1}; }},
      // The backward arguments.
      {"backward_args_null", bwd, bad, "args_not_null",
       [](call_data& c) { c.backward_pointer = nullptr; }},
      {"backward_args_struct_size", bwd, bad, "args_struct_size",
       [](call_data& c) { c.backward.struct_size = sizeof(bnc_backward_args) - 8; }},
      {"backward_x_null", bwd, bad, "x_not_null", [](call_data& c) { c.backward.x = nullptr; }},
      {"backward_dy_null", bwd, bad, "dy_not_null", [](call_data& c) { c.backward.dy = nullptr; }},
      {"backward_dx_null", bwd, bad, "dx_not_null", [](call_data& c) { c.backward.dx = nullptr; }},
      {"backward_gamma_null", bwd, bad, "gamma_not_null",
       [](call_data& c) { c.backward.gamma = nullptr; }},
      {"backward_dgamma_null", bwd, bad, "dgamma_not_null",
       [](call_data& c) { c.backward.dgamma = nullptr; }},
      {"backward_dbeta_null", bwd, bad, "dbeta_not_null",
       [](call_data& c) { c.backward.dbeta = nullptr; }},
      {"backward_save_mean_null", bwd, bad, "save_mean_not_null",
       [](call_data& c) { c.backward.save_mean = nullptr; }},
      {"backward_save_invstd_null", bwd, bad, "save_invstd_not_null",
       [](call_data& c) { c.backward.save_invstd = nullptr; }},
      {"backward_running_mean_null_in_eval", bwd, bad, "running_mean_not_null",
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.backward.running_mean = nullptr;
       }},
      {"backward_running_var_null_in_eval", bwd, bad, "running_var_not_null",
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.backward.running_var = nullptr;
       }},
      {"backward_one_value_per_channel", bwd, invalid, "more_than_one_value_per_channel",
       [](call_data& c) { c.shape = {1, 3, 1}; }},
      // Backward calls the ABI allows.
      {"backward_training_needs_no_running_statistics", bwd, ok, nullptr,
       [](call_data& c) { c.backward.running_mean = c.backward.running_var = nullptr; }},
      {"backward_eval_needs_no_saved_statistics", bwd, ok, nullptr,
       [](call_data& c) {
         c.problem.mode = BNC_MODE_EVAL;
         c.backward.save_mean = c.backward.save_invstd = nullptr;
       }},
      {"backward_no_affine", bwd, ok, nullptr,
       [](call_data& c) {
         c.problem.affine = 0;
         c.backward.gamma = nullptr;
         c.backward.dgamma = c.backward.dbeta = nullptr;
       }},
      {"backward_empty_batch", bwd, ok, nullptr,
       [](call_data& c) {
         c.shape = {2, 3, 0};
         c.backward.x = c.backward.dy = nullptr;
         c.backward.dx = nullptr;
       }},
      {"backward_one_value_per_channel_eval_with_tracking", bwd, ok, nullptr,
       [](call_data& c) {
         c.shape = {1, 3, 1};
         c.problem.mode = BNC_MODE_EVAL;
       }},
      // Views (ABI 1.1). The shape is 2x3x2: channels-first dense strides {6, 2, 1},
      // channels-last {6, 1, 3}.
      {"stride_negative", both, bad, "strides_not_negative",
       [](call_data& c) { c.view_x({-6, 2, 1}); }},
      {"stride_negative_on_extent_1", both, bad, "strides_not_negative",
       [](call_data& c) {
         c.shape = {1, 3, 2};
         c.view_x({-1, 2, 1});
       }},
      {"stride_span_overflows", both, bad, "strides_span_fits",
       [](call_data& c) { c.view_x({int64_max / 4, 2, 1}); }},
      {"strides_overlap", both, bad, "strides_not_overlapping",
       [](call_data& c) { c.view_x({6, 1, 1}); }},
      {"stride_zero", both, bad, "strides_not_overlapping",
       [](call_data& c) { c.view_x({6, 2, 0}); }},
      {"strides_interleave", both, bad, "strides_not_overlapping",
       [](call_data& c) { c.view_x({6, 2, 3}); }},
      {"y_overlaps_x", fwd, bad, "outputs_alias_exactly_or_not_at_all",
       [](call_data& c) { c.forward.y = c.x.data() + 1; }},
      {"y_is_x_with_other_strides", fwd, bad, "outputs_alias_exactly_or_not_at_all",
       [](call_data& c) {
         c.forward.y = c.x.data();
         c.view_y({6, 1, 3});
       }},
      {"dx_is_x", bwd, bad, "outputs_alias_exactly_or_not_at_all",
       [](call_data& c) { c.backward.dx = c.x.data(); }},
      {"dx_overlaps_dy", bwd, bad, "outputs_alias_exactly_or_not_at_all",
       [](call_data& c) { c.backward.dx = c.dy.data() + 2; }},
      {"communicator_size_0", both, bad, "communicator_well_formed",
       [](call_data& c) { c.distribute(0, 0); }},
      {"communicator_rank_past_size", both, bad, "communicator_well_formed",
       [](call_data& c) { c.distribute(2, 2); }},
      {"communicator_struct_size", both, bad, "communicator_well_formed",
       [](call_data& c) {
         c.distribute(0, 2);
         c.communicator.struct_size = 8;
       }},
      {"communicator_without_all_gather", both, bad, "communicator_well_formed",
       [](call_data& c) {
         c.distribute(0, 2);
         c.communicator.all_gather = nullptr;
       }},
      {"one_value_per_channel_in_eval_with_a_communicator", fwd, invalid,
       "more_than_one_value_per_channel",
       [](call_data& c) {
         c.shape = {1, 3, 1};
         c.problem.mode = BNC_MODE_EVAL;
         c.problem.track_running_stats = 0;
         c.distribute(0, 2);
       }},
      // Views and communicators the ABI allows.
      {"channels_last_strides", both, ok, nullptr, [](call_data& c) { c.view_x({6, 1, 3}); }},
      {"any_stride_on_extent_1", both, ok, nullptr,
       [](call_data& c) {
         c.shape = {1, 3, 2};
         c.view_x({1000, 2, 1});
       }},
      {"padded_view", both, ok, nullptr, [](call_data& c) { c.view_x({7, 2, 1}); }},
      {"y_over_x", fwd, ok, nullptr,
       [](call_data& c) {
         c.forward.y = c.x.data();
         c.view_x({6, 1, 3});
         c.view_y({6, 1, 3});
       }},
      {"dx_over_dy", bwd, ok, nullptr, [](call_data& c) { c.backward.dx = c.dy.data(); }},
      {"one_value_per_channel_on_one_rank", both, ok, nullptr,
       [](call_data& c) {
         c.shape = {1, 3, 1};
         c.distribute(1, 3);
       }},
  };
  std::vector<broken_case> expanded;
  for (broken_case& k : v) {
    if (k.dir != both) {
      expanded.push_back(std::move(k));
      continue;
    }
    broken_case backward = k;
    backward.what += "_backward";
    backward.dir = bwd;
    k.dir = fwd;
    expanded.push_back(std::move(k));
    expanded.push_back(std::move(backward));
  }
  return expanded;
}

std::vector<bnc_clause> table_of(direction d) {
  std::size_t count = 0;
  const bnc_clause* t = d == fwd ? bnc_forward_clauses(&count) : bnc_backward_clauses(&count);
  return {t, t + count};
}

struct outcome {
  bnc_status status;
  std::string message;
};

// Runs a case through the given tables (the real ones, or copies with a clause
// dropped).
outcome run(const broken_case& k, const std::vector<bnc_clause>& forward_table,
            const std::vector<bnc_clause>& backward_table) {
  call_data c;
  k.make(c);
  std::array<char, 512> message{};
  message.fill('#');
  const bnc_call call = k.dir == fwd ? c.as_forward() : c.as_backward();
  const std::vector<bnc_clause>& t = k.dir == fwd ? forward_table : backward_table;
  const bnc_status s =
      bnc_validate_run(t.data(), t.size(), &call, BNC_STATUS_OK, message.data(), message.size());
  return {s, message.data()};
}

// What is wrong with the outcome of a case; empty when it is what the case expects.
std::string mismatch(const broken_case& k, const outcome& o) {
  if (o.status != k.expected) {
    return "status " + std::to_string(o.status) + ", expected " + std::to_string(k.expected) +
           " (" + o.message + ")";
  }
  if (k.clause == nullptr) return o.message.empty() ? "" : "a message on success: " + o.message;
  const std::string prefix = std::string(k.clause) + ": ";
  if (o.message.compare(0, prefix.size(), prefix) != 0) {
    return "message '" + o.message + "' does not start with '" + prefix + "'";
  }
  if (o.message.size() <= prefix.size() + 5) return "message too short: " + o.message;
  return {};
}

class ValidateCase : public ::testing::TestWithParam<broken_case> {};

TEST_P(ValidateCase, GetsItsStatusAndNamesItsClause) {
  const broken_case& k = GetParam();
  const outcome o = run(k, table_of(fwd), table_of(bwd));
  EXPECT_EQ(mismatch(k, o), "");
}

// The convenience entry points and a C99 translation unit give the same answers.
TEST_P(ValidateCase, TheEntryPointsAndCAgree) {
  const broken_case& k = GetParam();
  call_data c;
  k.make(c);
  std::array<char, 512> from_cpp{}, from_c{};
  bnc_status cpp_status, c_status;
  if (k.dir == fwd) {
    cpp_status = bnc_validate_forward(c.problem_pointer, c.forward_pointer, c.keeps_module_state,
                                      from_cpp.data(), from_cpp.size());
    c_status = validate_forward_from_c(c.problem_pointer, c.forward_pointer, c.keeps_module_state,
                                       from_c.data(), from_c.size());
  } else {
    cpp_status = bnc_validate_backward(c.problem_pointer, c.backward_pointer, from_cpp.data(),
                                       from_cpp.size());
    c_status = validate_backward_from_c(c.problem_pointer, c.backward_pointer, from_c.data(),
                                        from_c.size());
  }
  EXPECT_EQ(cpp_status, k.expected) << from_cpp.data();
  EXPECT_EQ(c_status, cpp_status);
  EXPECT_STREQ(from_c.data(), from_cpp.data());
}

INSTANTIATE_TEST_SUITE_P(Abi, ValidateCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<broken_case>& param_info) {
                           return param_info.param.what;
                         });

TEST(Validate, EveryClauseHasACase) {
  for (const direction d : {fwd, bwd}) {
    std::set<std::string> named;
    for (const broken_case& k : cases()) {
      if (k.dir == d && k.clause != nullptr) named.insert(k.clause);
    }
    std::set<std::string> names;
    for (const bnc_clause& clause : table_of(d)) {
      EXPECT_TRUE(names.insert(clause.name).second) << "two clauses named " << clause.name;
      EXPECT_TRUE(named.count(clause.name)) << "no case breaks " << clause.name;
      EXPECT_GT(std::strlen(clause.rule), 5u) << clause.name;
      EXPECT_TRUE(clause.status == bad || clause.status == invalid) << clause.name;
    }
    EXPECT_EQ(named.size(), names.size());
  }
}

// The deliberately broken validators: each table with one clause dropped. The cases
// must notice every one of them; a clause that no case needs would be a rule that is
// not tested.
TEST(Validate, EveryValidatorWithAClauseDroppedFailsACase) {
  for (const direction d : {fwd, bwd}) {
    const std::vector<bnc_clause> full = table_of(d);
    for (std::size_t drop = 0; drop < full.size(); ++drop) {
      std::vector<bnc_clause> broken = full;
      broken.erase(broken.begin() + static_cast<std::ptrdiff_t>(drop));
      int caught = 0;
      for (const broken_case& k : cases()) {
        if (k.dir != d) continue;
        const outcome o = d == fwd ? run(k, broken, table_of(bwd)) : run(k, table_of(fwd), broken);
        if (!mismatch(k, o).empty()) ++caught;
      }
      EXPECT_GT(caught, 0) << "dropping " << full[drop].name << " goes unnoticed";
    }
  }
}

// The descriptor's table is where both tables start, and bnc_validate_problem gives
// the answer of the full validation on every case that breaks the descriptor.
TEST(Validate, TheProblemTableStartsBothTables) {
  std::size_t count = 0;
  const bnc_clause* problem_table = bnc_problem_clauses(&count);
  std::set<std::string> problem_names;
  for (const direction d : {fwd, bwd}) {
    const std::vector<bnc_clause> t = table_of(d);
    ASSERT_GT(t.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_STREQ(t[i].name, problem_table[i].name);
      problem_names.insert(problem_table[i].name);
    }
  }
  int compared = 0;
  for (const broken_case& k : cases()) {
    if (k.dir != fwd || (k.clause != nullptr && !problem_names.count(k.clause))) continue;
    call_data c;
    k.make(c);
    std::array<char, 256> message{};
    const bnc_status s = bnc_validate_problem(c.problem_pointer, message.data(), message.size());
    if (k.clause == nullptr) {
      EXPECT_EQ(s, BNC_STATUS_OK) << k.what << ": " << message.data();
      continue;
    }
    EXPECT_EQ(mismatch(k, {s, message.data()}), "") << k.what;
    ++compared;
  }
  EXPECT_GT(compared, 20);
}

// Only the clauses of one status: a kernel checks its own limits in between.
TEST(Validate, RunsTheClausesOfOneStatus) {
  call_data c;
  c.shape = {1, 3, 1};
  c.problem.eps = -1;
  const bnc_call call = c.as_forward();
  const std::vector<bnc_clause> t = table_of(fwd);
  std::array<char, 256> message{};
  EXPECT_EQ(bnc_validate_run(t.data(), t.size(), &call, BNC_STATUS_INVALID_PROBLEM, message.data(),
                             message.size()),
            BNC_STATUS_INVALID_PROBLEM);
  EXPECT_STREQ(message.data(),
               "more_than_one_value_per_channel: Expected more than 1 value per channel when "
               "training, got input size (1, 3, 1)");
  EXPECT_EQ(bnc_validate_run(t.data(), t.size(), &call, BNC_STATUS_BAD_ARGUMENT, message.data(),
                             message.size()),
            BNC_STATUS_BAD_ARGUMENT);
  EXPECT_STREQ(message.data(), "eps_finite_nonnegative: eps: must be finite and >= 0, got -1");
  c.problem.eps = 0;
  EXPECT_EQ(bnc_validate_run(t.data(), t.size(), &call, BNC_STATUS_BAD_ARGUMENT, message.data(),
                             message.size()),
            BNC_STATUS_OK);
  EXPECT_STREQ(message.data(), "");
}

// The message is NUL-terminated within the buffer at every size, and nothing is
// written past it; a NULL or empty buffer is allowed.
TEST(Validate, MessagesAreTruncatedWithinTheBuffer) {
  for (const char* which : {"rank", "one_value"}) {
    call_data c;
    if (std::string(which) == "rank") {
      c.problem.rank = 1;
    } else {
      c.shape = {1, 3, 1};
    }
    std::array<char, 200> full{};
    const bnc_status expected =
        bnc_validate_forward(&c.problem, &c.forward, 1, full.data(), full.size());
    const std::string text = full.data();
    ASSERT_GT(text.size(), 40u);
    for (std::size_t size = 1; size <= text.size() + 2; ++size) {
      std::array<char, 200> buffer{};
      buffer.fill('z');
      EXPECT_EQ(bnc_validate_forward(&c.problem, &c.forward, 1, buffer.data(), size), expected);
      const std::size_t kept = std::min(size - 1, text.size());
      EXPECT_EQ(std::string(buffer.data(), std::strlen(buffer.data())), text.substr(0, kept))
          << which << " at size " << size;
      EXPECT_EQ(buffer[size], 'z') << which << " at size " << size;
    }
    EXPECT_EQ(bnc_validate_forward(&c.problem, &c.forward, 1, nullptr, 0), expected);
    char untouched = 'z';
    EXPECT_EQ(bnc_validate_forward(&c.problem, &c.forward, 1, &untouched, 0), expected);
    EXPECT_EQ(untouched, 'z');
  }
}

// The declared clauses: a call outside what the kernel declares is UNSUPPORTED,
// rank above max_rank included (the ABI has no largest rank of its own).
struct declared_case {
  const char* what;
  const char* clause;  // nullptr: accepted
  std::function<void(call_data&, bnc_capabilities&, std::int32_t&)> make;
};

std::vector<declared_case> declared_cases() {
  return {
      {"declared_call", nullptr, [](call_data&, bnc_capabilities&, std::int32_t&) {}},
      {"backward_in_eval", "operation_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t& backward) {
         c.problem.mode = BNC_MODE_EVAL;
         backward = 1;
       }},
      {"backward_in_training", nullptr,
       [](call_data&, bnc_capabilities&, std::int32_t& backward) { backward = 1; }},
      {"forward_in_eval_undeclared", "operation_declared",
       [](call_data& c, bnc_capabilities& caps, std::int32_t&) {
         c.problem.mode = BNC_MODE_EVAL;
         caps.operations = BNC_OP_FORWARD_TRAINING;
       }},
      {"f16_data", "dtype_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         set_dtypes(c, BNC_DTYPE_F16, BNC_DTYPE_F32);
       }},
      {"channels_last", "layout_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.problem.layout = BNC_LAYOUT_CHANNELS_LAST;
       }},
      {"onnx_profile", "profile_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.problem.profile = BNC_PROFILE_ONNX;
       }},
      {"rank_above_max", "rank_declared",
       [](call_data&, bnc_capabilities& caps, std::int32_t&) { caps.max_rank = 2; }},
      {"rank_below_min", "rank_declared",
       [](call_data& c, bnc_capabilities& caps, std::int32_t&) {
         c.problem.rank = 2;
         caps.min_rank = 3;
       }},
      {"rank_at_max", nullptr,
       [](call_data&, bnc_capabilities& caps, std::int32_t&) { caps.max_rank = 3; }},
      {"malformed_rank_is_not_this_tables", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) { c.problem.rank = 1; }},
      {"unknown_dtype_is_not_this_tables", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) { set_raw(c.problem.data_dtype, 17); }},
      // Views and communicators (ABI 1.1) against the kernel's features.
      {"dense_strides_need_no_feature", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.view_x({6, 2, 1});
       }},
      {"padded_view_without_any_strides", "strides_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_MIXED_LAYOUTS;
         c.view_x({7, 2, 1});
       }},
      {"padded_view_with_any_strides", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_ANY_STRIDES;
         c.view_x({7, 2, 1});
       }},
      {"other_layout_not_declared", "strides_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_MIXED_LAYOUTS;
         c.view_x({6, 1, 3});
       }},
      {"other_layout_declared_with_mixed_layouts", nullptr,
       [](call_data& c, bnc_capabilities& caps, std::int32_t&) {
         caps.layouts |= BNC_BIT(BNC_LAYOUT_CHANNELS_LAST);
         c.features = BNC_FEATURE_MIXED_LAYOUTS;
         c.view_x({6, 1, 3});
       }},
      {"dx_in_another_layout_without_mixed_layouts", "strides_declared",
       [](call_data& c, bnc_capabilities& caps, std::int32_t& backward) {
         caps.layouts |= BNC_BIT(BNC_LAYOUT_CHANNELS_LAST);
         backward = 1;
         c.view_dx({6, 1, 3});
       }},
      {"y_over_x_undeclared", "in_place_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_ANY_STRIDES | BNC_FEATURE_IN_PLACE_BACKWARD;
         c.forward.y = c.x.data();
       }},
      {"y_over_x_declared", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_IN_PLACE_FORWARD;
         c.forward.y = c.x.data();
       }},
      {"dx_over_dy_undeclared", "in_place_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t& backward) {
         c.features = BNC_FEATURE_IN_PLACE_FORWARD;
         backward = 1;
         c.backward.dx = c.dy.data();
       }},
      {"communicator_undeclared", "distributed_declared",
       [](call_data& c, bnc_capabilities&, std::int32_t&) { c.distribute(0, 2); }},
      {"communicator_declared", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.features = BNC_FEATURE_DISTRIBUTED_TRAINING;
         c.distribute(0, 2);
       }},
      {"communicator_in_eval_is_ignored", nullptr,
       [](call_data& c, bnc_capabilities&, std::int32_t&) {
         c.problem.mode = BNC_MODE_EVAL;
         c.distribute(0, 2);
       }},
  };
}

// f32 and f64 data, channels-first, pytorch, rank 2 to 5, every operation but
// backward in eval.
bnc_capabilities declared_capabilities() {
  return {BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING,
          BNC_BIT(BNC_DTYPE_F32) | BNC_BIT(BNC_DTYPE_F64),
          BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST),
          BNC_BIT(BNC_PROFILE_PYTORCH),
          2,
          5,
          BNC_MEMORY_HOST,
          0};
}

// What is wrong with a declared case run through `table`; empty when nothing is.
std::string declared_mismatch(const declared_case& k, const std::vector<bnc_clause>& table) {
  call_data c;
  bnc_capabilities caps = declared_capabilities();
  std::int32_t backward = 0;
  k.make(c, caps, backward);
  bnc_call call = backward != 0 ? bnc_backward_call(&c.problem, &c.backward)
                                : bnc_forward_call(&c.problem, &c.forward, 0);
  call.capabilities = &caps;
  call.is_backward = backward;
  call.features = c.features;
  std::array<char, 256> message{};
  const bnc_status s = bnc_validate_run(table.data(), table.size(), &call, BNC_STATUS_OK,
                                        message.data(), message.size());
  bnc_kernel kernel{};
  kernel.capabilities = caps;
  kernel.features = c.features;
  std::array<char, 256> direct{};
  const bnc_status d = backward != 0
                           ? bnc_validate_declared_backward(&kernel, &c.problem, &c.backward,
                                                            direct.data(), direct.size())
                           : bnc_validate_declared_forward(&kernel, &c.problem, &c.forward,
                                                           direct.data(), direct.size());
  // Without arguments (the 1.0 entry point) only the views' clauses are left out.
  std::array<char, 256> without_args{};
  const bnc_status w =
      bnc_validate_declared(&caps, &c.problem, backward, without_args.data(), without_args.size());
  const std::set<std::string> argument_clauses{"strides_declared", "in_place_declared",
                                               "distributed_declared"};
  const bool about_arguments = k.clause != nullptr && argument_clauses.count(k.clause) != 0;
  if (!about_arguments && w != s) return "bnc_validate_declared disagrees without arguments";
  const std::string text = message.data();
  if (k.clause == nullptr) {
    if (d != BNC_STATUS_OK) return std::string("the entry point rejects: ") + direct.data();
    return s == BNC_STATUS_OK && text.empty() ? "" : "rejected: " + text;
  }
  if (s != BNC_STATUS_UNSUPPORTED) return "status " + std::to_string(s) + ": " + text;
  if (text.rfind(std::string(k.clause) + ": ", 0) != 0) return "message: " + text;
  if (d != s || text != direct.data()) return "bnc_validate_declared_forward/backward disagrees";
  return {};
}

std::vector<bnc_clause> declared_table() {
  std::size_t count = 0;
  const bnc_clause* t = bnc_declared_clauses(&count);
  return {t, t + count};
}

TEST(ValidateDeclared, OutsideTheCapabilitiesIsUnsupported) {
  for (const declared_case& k : declared_cases()) {
    EXPECT_EQ(declared_mismatch(k, declared_table()), "") << k.what;
  }
}

TEST(ValidateDeclared, EveryClauseHasACaseAndDroppingOneIsCaught) {
  const std::vector<bnc_clause> full = declared_table();
  for (std::size_t drop = 0; drop < full.size(); ++drop) {
    bool named = false;
    for (const declared_case& k : declared_cases()) {
      named = named || (k.clause != nullptr && std::string(k.clause) == full[drop].name);
    }
    EXPECT_TRUE(named) << "no case breaks " << full[drop].name;
    EXPECT_EQ(full[drop].status, BNC_STATUS_UNSUPPORTED);
    std::vector<bnc_clause> broken = full;
    broken.erase(broken.begin() + static_cast<std::ptrdiff_t>(drop));
    int caught = 0;
    for (const declared_case& k : declared_cases()) {
      if (!declared_mismatch(k, broken).empty()) ++caught;
    }
    EXPECT_GT(caught, 0) << "dropping " << full[drop].name << " goes unnoticed";
  }
}

}  // namespace
