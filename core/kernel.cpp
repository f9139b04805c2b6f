#include "kernel.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <memory>
#include <utility>

#include "bnconform/validate.h"
#include "error.hpp"
#include "fp_environment.hpp"

namespace bnconform {

namespace {

constexpr std::size_t message_capacity = 1024;
constexpr std::uint32_t known_features =
    BNC_FEATURE_MIXED_LAYOUTS | BNC_FEATURE_ANY_STRIDES | BNC_FEATURE_IN_PLACE_FORWARD |
    BNC_FEATURE_IN_PLACE_BACKWARD | BNC_FEATURE_DISTRIBUTED_TRAINING;

tensor filled(dtype t, std::int64_t count, double v) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, v);
  return out;
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

// Restores the environment `before` the call and reports what the kernel changed.
void restore_fp_environment(const fp_environment& before, std::vector<guard_finding>& findings) {
  const std::string changes = before.changes_to(fp_environment::current());
  before.restore();
  if (!changes.empty()) findings.push_back({guard_kind::fp_environment, "", changes});
}

// The kernel's message buffer: `capacity` bytes handed to the kernel, zeroed, then
// canary bytes it must not reach.
class message_buffer {
 public:
  message_buffer() {
    bytes_.fill('\0');
    std::fill(bytes_.begin() + capacity, bytes_.end(), static_cast<char>(canary_byte));
  }
  char* data() { return bytes_.data(); }
  static constexpr std::size_t size() { return capacity; }
  // The message as the kernel left it (cut at the buffer's end), and what the
  // guards see: a write past the buffer, no NUL within it.
  std::string take(std::vector<guard_finding>& findings) {
    const auto end = bytes_.begin() + capacity;
    // The last canary byte changed: how far past the buffer the kernel wrote.
    const auto last = std::find_if(bytes_.rbegin(), std::make_reverse_iterator(end),
                                   [](char c) { return c != static_cast<char>(canary_byte); });
    if (last != std::make_reverse_iterator(end)) {
      findings.push_back({guard_kind::out_of_bounds, "message",
                          "the kernel wrote " + std::to_string(last.base() - end) +
                              " byte(s) past the end of its " + std::to_string(capacity) +
                              "-byte message buffer"});
    }
    const auto nul = std::find(bytes_.begin(), end, '\0');
    if (nul == end) {
      findings.push_back(
          {guard_kind::message_unterminated, "message",
           "no NUL within the " + std::to_string(capacity) + " bytes of the message buffer"});
    }
    return std::string(bytes_.begin(), nul);
  }

 private:
  static constexpr std::size_t capacity = message_capacity;
  std::array<char, capacity + 64> bytes_{};
};

// The descriptor a call passes, with its shape in `shape` so that an edit may
// change it.
bnc_problem descriptor_of(const problem& p, std::vector<std::int64_t>& shape) {
  bnc_problem d = p.to_abi();
  shape.assign(d.shape, d.shape + d.rank);
  d.shape = shape.data();
  return d;
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

kernel::kernel(const bnc_kernel* description, memory_space* device)
    : k_(description), device_(device) {
  if (k_ == nullptr) report_error("kernel description is NULL");
  const std::uint32_t major = k_->abi_version >> 16;
  const std::uint32_t minor = k_->abi_version & 0xffffu;
  if (major != BNC_ABI_VERSION_MAJOR || minor > BNC_ABI_VERSION_MINOR) {
    report_error("kernel ABI version " + std::to_string(major) + "." + std::to_string(minor) +
                 " is not supported by this bnconform (ABI " +
                 std::to_string(BNC_ABI_VERSION_MAJOR) + "." +
                 std::to_string(BNC_ABI_VERSION_MINOR) + ")");
  }
  // A 1.0 description ends before `features` (ABI 1.1); a newer one has it.
  const std::size_t needed = minor == 0 ? offsetof(bnc_kernel, features) : sizeof(bnc_kernel);
  if (k_->struct_size < needed) report_error("bnc_kernel.struct_size is too small");
  minor_ = minor;
  features_ = minor == 0 ? 0u : k_->features;
  if ((features_ & BNC_FEATURE_ANY_STRIDES) != 0) features_ |= BNC_FEATURE_MIXED_LAYOUTS;
  if ((features_ & ~known_features) != 0) {
    report_error("kernel '" + std::string(k_->name == nullptr ? "?" : k_->name) +
                 "' declares unknown feature bits " + std::to_string(features_ & ~known_features));
  }
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
  if (c.memory != BNC_MEMORY_HOST && device_ == nullptr) {
    return "the kernel works in device memory and no device is available";
  }
  return p.has_views() ? views_unsupported_reason(p, backward) : std::string();
}

namespace {
using tensor_role = problem::tensor_role;

std::string_view name_of(tensor_role t) {
  switch (t) {
    case tensor_role::x: return "x";
    case tensor_role::y: return "y";
    case tensor_role::dy: return "dy";
    case tensor_role::dx: return "dx";
  }
  return "?";
}

std::vector<tensor_role> data_tensors(bool backward) {
  if (backward) return {tensor_role::x, tensor_role::dy, tensor_role::dx};
  return {tensor_role::x, tensor_role::y};
}

bool dense_in(const problem& p, tensor_role t, bnc_layout l) {
  const bnc_problem d = p.to_abi();
  const std::vector<std::int64_t> strides = p.strides_of(t);
  return bnc_view_is_dense(&d, strides.data(), l) != 0;
}
}  // namespace

std::string kernel::views_unsupported_reason(const problem& p, bool backward) const {
  const bnc_capabilities& c = k_->capabilities;
  const bnc_layout own = p.to_abi().layout;
  for (tensor_role t : data_tensors(backward)) {
    if ((features_ & BNC_FEATURE_ANY_STRIDES) != 0 || dense_in(p, t, own)) continue;
    constexpr std::array layouts{BNC_LAYOUT_CHANNELS_FIRST, BNC_LAYOUT_CHANNELS_LAST};
    const bool mixed_ok = (features_ & BNC_FEATURE_MIXED_LAYOUTS) != 0 &&
                          std::any_of(layouts.begin(), layouts.end(), [&](bnc_layout l) {
                            return (c.layouts & BNC_BIT(l)) != 0 && dense_in(p, t, l);
                          });
    if (!mixed_ok) {
      return std::string(name_of(t)) +
             "'s strides are not dense in a declared layout and the kernel does not declare "
             "BNC_FEATURE_ANY_STRIDES";
    }
  }
  if (p.spec().in_place) {
    const std::uint32_t bit =
        backward ? BNC_FEATURE_IN_PLACE_BACKWARD : BNC_FEATURE_IN_PLACE_FORWARD;
    if ((features_ & bit) == 0) {
      return backward ? "dx over dy in place is not declared (BNC_FEATURE_IN_PLACE_BACKWARD)"
                      : "y over x in place is not declared (BNC_FEATURE_IN_PLACE_FORWARD)";
    }
  }
  return {};
}

memory_space& kernel::memory() const {
  if (k_->capabilities.memory == BNC_MEMORY_HOST) return host_memory();
  if (device_ == nullptr) report_error("kernel '" + name() + "' needs a device memory space");
  return *device_;
}

namespace {

using role = guarded_buffer::role;

// A guarded buffer for a tensor that the call may or may not have.
std::unique_ptr<guarded_buffer> guard(memory_space& m, const char* name, role r, const tensor& t,
                                      bool present) {
  if (!present) return nullptr;
  return std::make_unique<guarded_buffer>(m, name, r, t);
}

void* pointer(const std::unique_ptr<guarded_buffer>& b) { return b ? b->data() : nullptr; }

// How a call lays out its data tensors: with views (strides or in place), each data
// tensor lies in its view's storage, and a kernel of ABI 1.1 or later is passed the
// strides; otherwise the tensors are dense and the strides NULL.
class call_views {
 public:
  call_views(const problem& p, std::uint32_t minor)
      : p_(p), laid_out_(p.has_views()), passed_(laid_out_ && minor >= 1) {
    if (!laid_out_) return;
    for (auto t : {tensor_role::x, tensor_role::y, tensor_role::dy, tensor_role::dx}) {
      const auto i = static_cast<std::size_t>(t);
      strides_[i] = p.strides_of(t);
    }
  }
  bool in_place() const { return p_.spec().in_place; }
  // The storage of a data tensor, or nullptr when it is dense.
  std::unique_ptr<storage_view> storage(tensor_role t) const {
    if (!laid_out_) return nullptr;
    return std::make_unique<storage_view>(storage_view{p_.storage_offsets(t), p_.storage_size(t)});
  }
  const std::int64_t* strides(tensor_role t) const {
    return passed_ ? strides_[static_cast<std::size_t>(t)].data() : nullptr;
  }
  // The buffer of an input that may be overwritten in place with an output.
  std::unique_ptr<guarded_buffer> input(memory_space& m, tensor_role t, const char* name,
                                        const char* in_place_name, const tensor& contents,
                                        bool overwritten) const {
    const auto view = storage(t);
    return std::make_unique<guarded_buffer>(m, overwritten ? in_place_name : name,
                                            overwritten ? role::in_place : role::input, contents,
                                            view.get());
  }
  std::unique_ptr<guarded_buffer> output(memory_space& m, tensor_role t, const char* name) const {
    const auto view = storage(t);
    return std::make_unique<guarded_buffer>(m, name, role::output,
                                            tensor(p_.data_type(), p_.element_count()), view.get());
  }

 private:
  const problem& p_;
  bool laid_out_, passed_;
  std::array<std::vector<std::int64_t>, 4> strides_;
};

tensor collect(const std::unique_ptr<guarded_buffer>& b, const tensor& absent, bool must_be_written,
               std::vector<guard_finding>& findings, bool must_be_untouched) {
  return b ? b->collect(must_be_written, findings, must_be_untouched) : absent;
}

}  // namespace

forward_outputs kernel::forward(const problem& p, const tensor& x, module_state& state,
                                const call_edit* edit, const bnc_communicator* communicator) const {
  expect_tensor(x, p.data_type(), p.element_count(), "x");
  expect_state(p, state);
  const bool batch_stats = p.uses_batch_statistics();
  const bool updates_state = p.mode() == mode::training && p.track_running_stats();
  const std::int64_t stats_count = batch_stats ? p.channels() : 0;
  memory_space& m = memory();

  const call_views views(p, minor_);
  const bool in_place = views.in_place();
  const auto x_buf = views.input(m, tensor_role::x, "x", "x (y in place)", x, in_place);
  const auto y_buf = in_place ? nullptr : views.output(m, tensor_role::y, "y");
  const auto gamma_buf = guard(m, "gamma", role::input, state.gamma, p.affine());
  const auto beta_buf = guard(m, "beta", role::input, state.beta, p.affine());
  const role stats_role = updates_state ? role::in_out : role::input;
  const auto mean_buf =
      guard(m, "running_mean", stats_role, state.running_mean, p.track_running_stats());
  const auto var_buf =
      guard(m, "running_var", stats_role, state.running_var, p.track_running_stats());
  const tensor no_stats(p.stats_type(), 0);
  const auto save_mean_buf =
      guard(m, "save_mean", role::output, tensor(p.stats_type(), stats_count), batch_stats);
  const auto save_invstd_buf =
      guard(m, "save_invstd", role::output, tensor(p.stats_type(), stats_count), batch_stats);

  std::vector<std::int64_t> shape;
  bnc_problem descriptor = descriptor_of(p, shape);
  bnc_forward_args args{};
  args.struct_size = sizeof args;
  args.x = x_buf->data();
  args.y = in_place ? x_buf->data() : y_buf->data();
  args.x_strides = views.strides(tensor_role::x);
  args.y_strides = views.strides(tensor_role::y);
  args.communicator = communicator;
  args.gamma = pointer(gamma_buf);
  args.beta = pointer(beta_buf);
  args.running_mean = pointer(mean_buf);
  args.running_var = pointer(var_buf);
  args.save_mean = pointer(save_mean_buf);
  args.save_invstd = pointer(save_invstd_buf);
  args.stream = m.stream();
  std::int64_t counter = state.num_batches_tracked;
  args.num_batches_tracked = p.track_running_stats() ? &counter : nullptr;
  // The factor of this step: PyTorch's module computes it in Python (f64) as
  // momentum, or 1 / num_batches_tracked after incrementing the counter.
  args.exponential_average_factor =
      p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(state.num_batches_tracked + 1);

  if (edit != nullptr && edit->problem) edit->problem(descriptor, shape);
  if (edit != nullptr && edit->forward) edit->forward(args);
  const bnc_problem* problem_passed = edit != nullptr && edit->null_problem ? nullptr : &descriptor;
  const bnc_forward_args* args_passed = edit != nullptr && edit->null_args ? nullptr : &args;

  message_buffer message;
  const fp_environment environment = fp_environment::current();
  const bnc_status code =
      k_->forward(k_->context, problem_passed, args_passed, message.data(), message.size());
  std::vector<guard_finding> environment_findings;
  restore_fp_environment(environment, environment_findings);
  m.synchronize();

  forward_outputs out;
  out.guards = std::move(environment_findings);
  out.status = call_status{code, message.take(out.guards)};
  const bool ok = code == BNC_STATUS_OK;
  // An empty batch has no statistics to save (PyTorch leaves them uninitialized);
  // in a distributed training call they are the global batch's, which a successful
  // call never has empty (a global m <= 1 is invalid).
  const bool distributed = communicator != nullptr && p.mode() == mode::training;
  const bool stats_written = ok && (p.reduction_size() > 0 || distributed);
  if (in_place) {
    out.y = x_buf->collect(false, out.guards, !ok);
  } else {
    x_buf->collect(false, out.guards);
    out.y = y_buf->collect(ok, out.guards, !ok);
  }
  out.save_mean = collect(save_mean_buf, no_stats, stats_written, out.guards, !ok);
  out.save_invstd = collect(save_invstd_buf, no_stats, stats_written, out.guards, !ok);
  if (gamma_buf) gamma_buf->collect(false, out.guards);
  if (beta_buf) beta_buf->collect(false, out.guards);
  if (mean_buf) state.running_mean = mean_buf->collect(false, out.guards);
  if (var_buf) state.running_var = var_buf->collect(false, out.guards);
  state.num_batches_tracked = counter;
  if (ok && updates_state && k_->capabilities.keeps_module_state == 0) {
    ++state.num_batches_tracked;
  }
  return out;
}

backward_outputs kernel::backward(const problem& p, const tensor& x, const tensor& dy,
                                  const module_state& state, const tensor& save_mean,
                                  const tensor& save_invstd, const call_edit* edit,
                                  const bnc_communicator* communicator) const {
  expect_tensor(x, p.data_type(), p.element_count(), "x");
  expect_tensor(dy, p.data_type(), p.element_count(), "dy");
  expect_state(p, state);
  const bool batch_stats = p.uses_batch_statistics();
  if (batch_stats) {
    expect_tensor(save_mean, p.stats_type(), p.channels(), "save_mean");
    expect_tensor(save_invstd, p.stats_type(), p.channels(), "save_invstd");
  }
  const std::int64_t affine_count = p.affine() ? p.channels() : 0;
  memory_space& m = memory();

  const call_views views(p, minor_);
  const bool in_place = views.in_place();
  const auto x_buf = views.input(m, tensor_role::x, "x", "x", x, false);
  const auto dy_buf = views.input(m, tensor_role::dy, "dy", "dy (dx in place)", dy, in_place);
  const auto dx_buf = in_place ? nullptr : views.output(m, tensor_role::dx, "dx");
  const auto gamma_buf = guard(m, "gamma", role::input, state.gamma, p.affine());
  const auto save_mean_buf = guard(m, "save_mean", role::input, save_mean, batch_stats);
  const auto save_invstd_buf = guard(m, "save_invstd", role::input, save_invstd, batch_stats);
  const auto mean_buf = guard(m, "running_mean", role::input, state.running_mean, !batch_stats);
  const auto var_buf = guard(m, "running_var", role::input, state.running_var, !batch_stats);
  const tensor no_params(p.stats_type(), 0);
  const auto dgamma_buf =
      guard(m, "dgamma", role::output, tensor(p.stats_type(), affine_count), p.affine());
  const auto dbeta_buf =
      guard(m, "dbeta", role::output, tensor(p.stats_type(), affine_count), p.affine());

  std::vector<std::int64_t> shape;
  bnc_problem descriptor = descriptor_of(p, shape);
  bnc_backward_args args{};
  args.struct_size = sizeof args;
  args.x = x_buf->data();
  args.dy = dy_buf->data();
  args.dx = in_place ? dy_buf->data() : dx_buf->data();
  args.x_strides = views.strides(tensor_role::x);
  args.dy_strides = views.strides(tensor_role::dy);
  args.dx_strides = views.strides(tensor_role::dx);
  args.communicator = communicator;
  args.gamma = pointer(gamma_buf);
  args.save_mean = pointer(save_mean_buf);
  args.save_invstd = pointer(save_invstd_buf);
  args.running_mean = pointer(mean_buf);
  args.running_var = pointer(var_buf);
  args.dgamma = pointer(dgamma_buf);
  args.dbeta = pointer(dbeta_buf);
  args.stream = m.stream();

  if (edit != nullptr && edit->problem) edit->problem(descriptor, shape);
  if (edit != nullptr && edit->backward) edit->backward(args);
  const bnc_problem* problem_passed = edit != nullptr && edit->null_problem ? nullptr : &descriptor;
  const bnc_backward_args* args_passed = edit != nullptr && edit->null_args ? nullptr : &args;

  message_buffer message;
  const fp_environment environment = fp_environment::current();
  const bnc_status code =
      k_->backward(k_->context, problem_passed, args_passed, message.data(), message.size());
  std::vector<guard_finding> environment_findings;
  restore_fp_environment(environment, environment_findings);
  m.synchronize();

  backward_outputs out;
  out.guards = std::move(environment_findings);
  out.status = call_status{code, message.take(out.guards)};
  const bool ok = code == BNC_STATUS_OK;
  x_buf->collect(false, out.guards);
  if (in_place) {
    out.dx = dy_buf->collect(false, out.guards, !ok);
  } else {
    dy_buf->collect(false, out.guards);
    out.dx = dx_buf->collect(ok, out.guards, !ok);
  }
  out.dgamma = collect(dgamma_buf, no_params, ok, out.guards, !ok);
  out.dbeta = collect(dbeta_buf, no_params, ok, out.guards, !ok);
  for (const auto* b : {&gamma_buf, &save_mean_buf, &save_invstd_buf, &mean_buf, &var_buf}) {
    if (*b) (*b)->collect(false, out.guards);
  }
  return out;
}

}  // namespace bnconform
