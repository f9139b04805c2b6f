#include "kernel.hpp"

#include <limits>
#include <utility>

#include "error.hpp"

namespace bnconform {

namespace {

constexpr std::size_t message_capacity = 1024;

tensor filled(dtype t, std::int64_t count, double v) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, v);
  return out;
}

tensor nan_filled(dtype t, std::int64_t count) {
  return filled(t, count, std::numeric_limits<double>::quiet_NaN());
}

void expect_tensor(const tensor& t, dtype type, std::int64_t count, const char* what) {
  if (t.type() != type || t.size() != count) {
    report_error(std::string(what) + ": expected " + std::to_string(count) + " " +
                 std::string(name_of(type)) + " values, got " + std::to_string(t.size()) + " " +
                 std::string(name_of(t.type())));
  }
}

void expect_state(const problem& p, const module_state& s) {
  const std::int64_t c = p.channels();
  const std::int64_t affine_count = p.affine() ? c : 0;
  const std::int64_t tracked_count = p.track_running_stats() ? c : 0;
  expect_tensor(s.gamma, p.stats_type(), affine_count, "gamma");
  expect_tensor(s.beta, p.stats_type(), affine_count, "beta");
  expect_tensor(s.running_mean, p.stats_type(), tracked_count, "running_mean");
  expect_tensor(s.running_var, p.stats_type(), tracked_count, "running_var");
}

void* data_or_null(tensor& t, bool present) { return present ? t.data() : nullptr; }
const void* data_or_null(const tensor& t, bool present) { return present ? t.data() : nullptr; }

call_status make_status(bnc_status code, const char* message) {
  call_status s{code, std::string(message)};
  return s;
}

}  // namespace

module_state module_state::initial(const problem& p) {
  module_state s;
  const std::int64_t c = p.channels();
  if (p.affine()) {
    s.gamma = filled(p.stats_type(), c, 1.0);
    s.beta = filled(p.stats_type(), c, 0.0);
  } else {
    s.gamma = tensor(p.stats_type(), 0);
    s.beta = tensor(p.stats_type(), 0);
  }
  if (p.track_running_stats()) {
    s.running_mean = filled(p.stats_type(), c, 0.0);
    s.running_var = filled(p.stats_type(), c, 1.0);
  } else {
    s.running_mean = tensor(p.stats_type(), 0);
    s.running_var = tensor(p.stats_type(), 0);
  }
  return s;
}

std::string_view name_of(bnc_status s) {
  switch (s) {
    case BNC_STATUS_OK: return "ok";
    case BNC_STATUS_BAD_ARGUMENT: return "bad_argument";
    case BNC_STATUS_INVALID_PROBLEM: return "invalid_problem";
    case BNC_STATUS_UNSUPPORTED: return "unsupported";
    case BNC_STATUS_INTERNAL_ERROR: return "internal_error";
  }
  return "unknown_status";
}

std::uint32_t operation_of(const problem& p, bool backward) {
  if (p.mode() == mode::training)
    return backward ? BNC_OP_BACKWARD_TRAINING : BNC_OP_FORWARD_TRAINING;
  return backward ? BNC_OP_BACKWARD_EVAL : BNC_OP_FORWARD_EVAL;
}

kernel::kernel(const bnc_kernel* description) : k_(description) {
  if (k_ == nullptr) report_error("kernel description is NULL");
  const std::uint32_t major = k_->abi_version >> 16;
  const std::uint32_t minor = k_->abi_version & 0xffffu;
  if (major != BNC_ABI_VERSION_MAJOR || minor > BNC_ABI_VERSION_MINOR) {
    report_error("kernel ABI version " + std::to_string(major) + "." + std::to_string(minor) +
                 " is not supported by this bnconform (ABI " +
                 std::to_string(BNC_ABI_VERSION_MAJOR) + "." +
                 std::to_string(BNC_ABI_VERSION_MINOR) + ")");
  }
  if (k_->struct_size < sizeof(bnc_kernel)) report_error("bnc_kernel.struct_size is too small");
  if (k_->name == nullptr || k_->version == nullptr) report_error("kernel name or version is NULL");
  if (k_->forward == nullptr || k_->backward == nullptr) {
    report_error("kernel '" + std::string(k_->name) + "' has a NULL entry point");
  }
}

std::string kernel::unsupported_reason(const problem& p, bool backward) const {
  const bnc_capabilities& c = k_->capabilities;
  const bnc_problem d = p.to_abi();
  if ((c.operations & operation_of(p, backward)) == 0) {
    return std::string(backward ? "backward" : "forward") + " in " +
           std::string(name_of(p.mode())) + " mode is not declared";
  }
  if ((c.dtypes & BNC_BIT(d.data_dtype)) == 0) {
    return "dtype " + std::string(name_of(p.data_type())) + " is not declared";
  }
  if ((c.layouts & BNC_BIT(d.layout)) == 0) {
    return "layout " + std::string(name_of(p.layout())) + " is not declared";
  }
  if ((c.profiles & BNC_BIT(d.profile)) == 0) {
    return "profile " + std::string(name_of(p.profile())) + " is not declared";
  }
  if (p.rank() < c.min_rank || p.rank() > c.max_rank) {
    return "rank " + std::to_string(p.rank()) + " is outside the declared range";
  }
  if (c.memory != BNC_MEMORY_HOST) return "device-memory kernels need the device harness";
  return {};
}

forward_outputs kernel::forward(const problem& p, const tensor& x, module_state& state) const {
  expect_tensor(x, p.data_type(), p.element_count(), "x");
  expect_state(p, state);
  const bool batch_stats = p.uses_batch_statistics();
  const bool updates_state = p.mode() == mode::training && p.track_running_stats();
  forward_outputs out;
  out.y = nan_filled(p.data_type(), p.element_count());
  out.save_mean = nan_filled(p.stats_type(), batch_stats ? p.channels() : 0);
  out.save_invstd = nan_filled(p.stats_type(), batch_stats ? p.channels() : 0);

  const bnc_problem descriptor = p.to_abi();
  bnc_forward_args args{};
  args.struct_size = sizeof args;
  args.x = x.data();
  args.y = out.y.data();
  args.gamma = data_or_null(std::as_const(state.gamma), p.affine());
  args.beta = data_or_null(std::as_const(state.beta), p.affine());
  args.running_mean = data_or_null(state.running_mean, p.track_running_stats());
  args.running_var = data_or_null(state.running_var, p.track_running_stats());
  args.save_mean = data_or_null(out.save_mean, batch_stats);
  args.save_invstd = data_or_null(out.save_invstd, batch_stats);
  args.num_batches_tracked = p.track_running_stats() ? &state.num_batches_tracked : nullptr;
  // The factor of this step: PyTorch's module computes it in Python (f64) as
  // momentum, or 1 / num_batches_tracked after incrementing the counter.
  args.exponential_average_factor =
      p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(state.num_batches_tracked + 1);

  char message[message_capacity] = {};
  const bnc_status code = k_->forward(k_->context, &descriptor, &args, message, sizeof message);
  message[sizeof message - 1] = '\0';
  out.status = make_status(code, message);
  if (code == BNC_STATUS_OK && updates_state && k_->capabilities.keeps_module_state == 0) {
    ++state.num_batches_tracked;
  }
  return out;
}

backward_outputs kernel::backward(const problem& p, const tensor& x, const tensor& dy,
                                  const module_state& state, const tensor& save_mean,
                                  const tensor& save_invstd) const {
  expect_tensor(x, p.data_type(), p.element_count(), "x");
  expect_tensor(dy, p.data_type(), p.element_count(), "dy");
  expect_state(p, state);
  const bool batch_stats = p.uses_batch_statistics();
  if (batch_stats) {
    expect_tensor(save_mean, p.stats_type(), p.channels(), "save_mean");
    expect_tensor(save_invstd, p.stats_type(), p.channels(), "save_invstd");
  }
  backward_outputs out;
  out.dx = nan_filled(p.data_type(), p.element_count());
  out.dgamma = nan_filled(p.stats_type(), p.affine() ? p.channels() : 0);
  out.dbeta = nan_filled(p.stats_type(), p.affine() ? p.channels() : 0);

  const bnc_problem descriptor = p.to_abi();
  bnc_backward_args args{};
  args.struct_size = sizeof args;
  args.x = x.data();
  args.dy = dy.data();
  args.dx = out.dx.data();
  args.gamma = data_or_null(state.gamma, p.affine());
  args.save_mean = data_or_null(save_mean, batch_stats);
  args.save_invstd = data_or_null(save_invstd, batch_stats);
  args.running_mean = data_or_null(state.running_mean, !batch_stats);
  args.running_var = data_or_null(state.running_var, !batch_stats);
  args.dgamma = data_or_null(out.dgamma, p.affine());
  args.dbeta = data_or_null(out.dbeta, p.affine());

  char message[message_capacity] = {};
  const bnc_status code = k_->backward(k_->context, &descriptor, &args, message, sizeof message);
  message[sizeof message - 1] = '\0';
  out.status = make_status(code, message);
  return out;
}

}  // namespace bnconform
