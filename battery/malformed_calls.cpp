#include "malformed_calls.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "core/float_bits.hpp"

namespace bnconform::battery {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

// A value outside an ABI enum, as a C caller can pass one.
template <class Enum>
void set_raw(Enum& field, int value) {
  static_assert(sizeof(Enum) == sizeof(int));
  std::memcpy(&field, &value, sizeof value);
}

std::string number(double v) { return shortest_decimal(v, dtype::f64); }

using edit_problem = std::function<void(bnc_problem&, std::span<std::int64_t>)>;

malformed_variant on_problem(std::string what, edit_problem e) {
  return {std::move(what), [e = std::move(e)](call_edit& c, module_state&) { c.problem = e; }};
}

malformed_variant null_problem() {
  return {"problem = NULL", [](call_edit& c, module_state&) { c.null_problem = true; }};
}

malformed_variant null_args() {
  return {"args = NULL", [](call_edit& c, module_state&) { c.null_args = true; }};
}

template <class Args>
malformed_variant on_args(std::string what, std::function<void(Args&)> e) {
  return {std::move(what), [e = std::move(e)](call_edit& c, module_state&) {
            if constexpr (std::is_same_v<Args, bnc_forward_args>) {
              c.forward = e;
            } else {
              c.backward = e;
            }
          }};
}

// The descriptor's clauses, the start of both tables.
std::vector<malformed_call> descriptor_calls(bool backward) {
  std::vector<malformed_call> out;
  const auto add = [&](std::string_view clause, std::vector<malformed_variant> variants) {
    malformed_call c;
    c.clause = clause;
    c.backward = backward;
    c.variants = std::move(variants);
    out.push_back(std::move(c));
  };
  add("problem_not_null", {null_problem()});
  add("problem_struct_size",
      {on_problem("struct_size = 8", [](bnc_problem& p, auto) { p.struct_size = 8; }),
       on_problem("struct_size = sizeof(bnc_problem) - 1",
                  [](bnc_problem& p, auto) { p.struct_size = sizeof(bnc_problem) - 1; })});
  add("rank_at_least_2", {on_problem("rank = 1", [](bnc_problem& p, auto) { p.rank = 1; }),
                          on_problem("rank = 0", [](bnc_problem& p, auto) { p.rank = 0; }),
                          on_problem("rank = -3", [](bnc_problem& p, auto) { p.rank = -3; })});
  add("shape_not_null",
      {on_problem("shape = NULL", [](bnc_problem& p, auto) { p.shape = nullptr; })});
  add("extents_not_negative",
      {on_problem("N = -1", [](bnc_problem&, std::span<std::int64_t> s) { s[0] = -1; }),
       on_problem("last extent = -2",
                  [](bnc_problem&, std::span<std::int64_t> s) { s[s.size() - 1] = -2; })});
  // C stays as it is (at least 2): N = 2^62 makes the product overflow int64_t.
  add("element_count_fits", {on_problem("N = 2^62", [](bnc_problem&, std::span<std::int64_t> s) {
        s[0] = std::int64_t{1} << 62;
      })});
  add("layout_known",
      {on_problem("layout = 7", [](bnc_problem& p, auto) { set_raw(p.layout, 7); }),
       on_problem("layout = -1", [](bnc_problem& p, auto) { set_raw(p.layout, -1); })});
  add("data_dtype_known",
      {on_problem("data_dtype = 9", [](bnc_problem& p, auto) { set_raw(p.data_dtype, 9); })});
  add("stats_dtype_known",
      {on_problem("stats_dtype = 9", [](bnc_problem& p, auto) { set_raw(p.stats_dtype, 9); })});
  add("dtype_pair", {on_problem("stats_dtype of the other width", [](bnc_problem& p, auto) {
        p.stats_dtype = p.data_dtype == BNC_DTYPE_F64 ? BNC_DTYPE_F32 : BNC_DTYPE_F64;
      })});
  add("mode_known", {on_problem("mode = 3", [](bnc_problem& p, auto) { set_raw(p.mode, 3); })});
  add("profile_known",
      {on_problem("profile = -1", [](bnc_problem& p, auto) { set_raw(p.profile, -1); }),
       on_problem("profile = 99", [](bnc_problem& p, auto) { set_raw(p.profile, 99); })});
  std::vector<malformed_variant> eps;
  for (const double v : {-1e-5, nan, inf}) {
    eps.push_back(on_problem("eps = " + number(v), [v](bnc_problem& p, auto) { p.eps = v; }));
  }
  add("eps_finite_nonnegative", std::move(eps));
  std::vector<malformed_variant> momentum;
  for (const double v : {1.5, -0.25, nan}) {
    momentum.push_back(on_problem("momentum = " + number(v), [v](bnc_problem& p, auto) {
      p.momentum_is_none = 0;
      p.momentum = v;
    }));
  }
  add("momentum_in_unit_interval", std::move(momentum));
  return out;
}

// m == 1: every extent but C set to 1.
malformed_call one_value_per_channel(bool backward) {
  malformed_call c;
  c.clause = "more_than_one_value_per_channel";
  c.backward = backward;
  c.expected = BNC_STATUS_INVALID_PROBLEM;
  c.mode = base_mode::training;
  c.pytorch_and_onnx_only = true;
  c.variants = {on_problem("every extent but C = 1", [](bnc_problem&, std::span<std::int64_t> s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i != 1) s[i] = 1;
    }
  })};
  return c;
}

// `Field` is void* for an output (or an in/out buffer), const void* for an input.
template <class Args, class Field>
malformed_call null_buffer(std::string_view clause, bool backward, Field Args::*member,
                           base_mode mode = base_mode::any) {
  malformed_call c;
  c.clause = clause;
  c.backward = backward;
  c.mode = mode;
  const std::string field(clause.substr(0, clause.size() - std::string_view("_not_null").size()));
  c.variants = {on_args<Args>(field + " = NULL", [member](Args& a) { a.*member = nullptr; })};
  return c;
}

template <class Args>
malformed_call short_args(bool backward) {
  malformed_call c;
  c.clause = "args_struct_size";
  c.backward = backward;
  c.variants = {on_args<Args>("args struct_size = 8", [](Args& a) { a.struct_size = 8; }),
                on_args<Args>("args struct_size = sizeof - 1",
                              [](Args& a) { a.struct_size = sizeof(Args) - 1; })};
  return c;
}

malformed_call args_null(bool backward) {
  malformed_call c;
  c.clause = "args_not_null";
  c.backward = backward;
  c.variants = {null_args()};
  return c;
}

// The call's shape, as the problem edit sees it just before the arguments' edit:
// the views' clauses build strides of the call's rank.
struct shape_seen {
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // what the arguments point to during the call
  // Dense channels-first strides of the shape.
  std::vector<std::int64_t> dense() const {
    std::vector<std::int64_t> s(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
    return s;
  }
  // The first dimension of extent > 1 (the coverage problems have several).
  std::size_t long_dimension() const {
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] > 1) return d;
    }
    return 0;
  }
};

// A variant that gives x (forward and backward) strides made from the call's shape.
malformed_variant on_x_strides(
    std::string what, bool backward,
    std::function<void(const shape_seen&, std::vector<std::int64_t>&)> make) {
  return {std::move(what), [backward, make = std::move(make)](call_edit& c, module_state&) {
            auto seen = std::make_shared<shape_seen>();
            c.problem = [seen](bnc_problem&, std::span<std::int64_t> shape) {
              seen->shape.assign(shape.begin(), shape.end());
            };
            const auto point = [seen, make](const std::int64_t*& x_strides) {
              seen->strides = seen->dense();
              make(*seen, seen->strides);
              x_strides = seen->strides.data();
            };
            if (backward) {
              c.backward = [point](bnc_backward_args& a) { point(a.x_strides); };
            } else {
              c.forward = [point](bnc_forward_args& a) { point(a.x_strides); };
            }
          }};
}

// The views' and the communicator's clauses (ABI 1.1), both directions.
std::vector<malformed_call> abi_1_1_calls(bool backward) {
  std::vector<malformed_call> out;
  const auto add = [&](std::string_view clause, base_mode mode,
                       std::vector<malformed_variant> variants) {
    malformed_call c;
    c.clause = clause;
    c.backward = backward;
    c.mode = mode;
    c.abi_1_1 = true;
    c.variants = std::move(variants);
    out.push_back(std::move(c));
  };
  add("strides_not_negative", base_mode::any,
      {on_x_strides("x stride of N negative", backward,
                    [](const shape_seen&, std::vector<std::int64_t>& s) { s[0] = -s[0]; })});
  add("strides_span_fits", base_mode::any,
      {on_x_strides("x stride of a long dimension 2^61", backward,
                    [](const shape_seen& seen, std::vector<std::int64_t>& s) {
                      s[seen.long_dimension()] = std::int64_t{1} << 61;
                    })});
  add("strides_not_overlapping", base_mode::any,
      {on_x_strides("x stride 0 on a dimension of extent > 1", backward,
                    [](const shape_seen& seen, std::vector<std::int64_t>& s) {
                      s[seen.long_dimension()] = 0;
                    }),
       on_x_strides("every x stride 1", backward,
                    [](const shape_seen&, std::vector<std::int64_t>& s) {
                      std::fill(s.begin(), s.end(), 1);
                    })});
  if (backward) {
    add("outputs_alias_exactly_or_not_at_all", base_mode::any,
        {on_args<bnc_backward_args>("dx = x",
                                    [](bnc_backward_args& a) { a.dx = const_cast<void*>(a.x); })});
  } else {
    add("outputs_alias_exactly_or_not_at_all", base_mode::any,
        {on_args<bnc_forward_args>("y = x + one element", [](bnc_forward_args& a) {
          a.y = static_cast<std::byte*>(const_cast<void*>(a.x)) + 8;
        })});
  }
  // A communicator no rank could have: size 0, or a rank past the size.
  static const auto sum = [](void*, void*, std::int64_t, bnc_element) { return BNC_STATUS_OK; };
  static const auto gather = [](void*, const void*, void*, std::int64_t, bnc_element) {
    return BNC_STATUS_OK;
  };
  static const bnc_communicator size_0{sizeof(bnc_communicator), 0, 0, nullptr, sum, gather};
  static const bnc_communicator rank_past{sizeof(bnc_communicator), 2, 2, nullptr, sum, gather};
  std::vector<malformed_variant> communicators;
  for (const bnc_communicator* c : {&size_0, &rank_past}) {
    const std::string what =
        "communicator rank " + std::to_string(c->rank) + " of size " + std::to_string(c->size);
    if (backward) {
      communicators.push_back(
          on_args<bnc_backward_args>(what, [c](bnc_backward_args& a) { a.communicator = c; }));
    } else {
      communicators.push_back(
          on_args<bnc_forward_args>(what, [c](bnc_forward_args& a) { a.communicator = c; }));
    }
  }
  add("communicator_well_formed", base_mode::training, std::move(communicators));
  return out;
}

std::vector<malformed_call> forward_calls() {
  using a = bnc_forward_args;
  std::vector<malformed_call> out = descriptor_calls(false);
  out.push_back(args_null(false));
  out.push_back(short_args<a>(false));
  out.push_back(null_buffer<a>("x_not_null", false, &a::x));
  out.push_back(null_buffer<a>("y_not_null", false, &a::y));
  out.push_back(null_buffer<a>("gamma_not_null", false, &a::gamma));
  out.push_back(null_buffer<a>("beta_not_null", false, &a::beta));
  out.push_back(null_buffer<a>("running_mean_not_null", false, &a::running_mean));
  out.push_back(null_buffer<a>("running_var_not_null", false, &a::running_var));
  out.push_back(null_buffer<a>("save_mean_not_null", false, &a::save_mean, base_mode::training));
  out.push_back(
      null_buffer<a>("save_invstd_not_null", false, &a::save_invstd, base_mode::training));

  malformed_call counter_null;
  counter_null.clause = "counter_not_null";
  counter_null.state = state_rule::kernel_keeps_state;
  counter_null.variants = {on_args<a>("num_batches_tracked = NULL",
                                      [](a& args) { args.num_batches_tracked = nullptr; })};
  out.push_back(std::move(counter_null));
  for (malformed_call& c : abi_1_1_calls(false)) out.push_back(std::move(c));

  malformed_call counter_range;
  counter_range.clause = "counter_in_range";
  counter_range.state = state_rule::kernel_keeps_state;
  for (const std::int64_t v : {std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()}) {
    counter_range.variants.push_back(
        {"*num_batches_tracked = " + std::to_string(v),
         [v](call_edit&, module_state& s) { s.num_batches_tracked = v; }});
  }
  out.push_back(std::move(counter_range));

  malformed_call factor;
  factor.clause = "factor_in_unit_interval";
  factor.state = state_rule::caller_keeps_state;
  factor.mode = base_mode::training;
  for (const double v : {1.5, -0.5, nan}) {
    factor.variants.push_back(on_args<a>("exponential_average_factor = " + number(v),
                                         [v](a& args) { args.exponential_average_factor = v; }));
  }
  out.push_back(std::move(factor));
  out.push_back(one_value_per_channel(false));
  return out;
}

std::vector<malformed_call> backward_calls() {
  using a = bnc_backward_args;
  std::vector<malformed_call> out = descriptor_calls(true);
  out.push_back(args_null(true));
  out.push_back(short_args<a>(true));
  out.push_back(null_buffer<a>("x_not_null", true, &a::x));
  out.push_back(null_buffer<a>("dy_not_null", true, &a::dy));
  out.push_back(null_buffer<a>("dx_not_null", true, &a::dx));
  out.push_back(null_buffer<a>("gamma_not_null", true, &a::gamma));
  out.push_back(null_buffer<a>("dgamma_not_null", true, &a::dgamma));
  out.push_back(null_buffer<a>("dbeta_not_null", true, &a::dbeta));
  out.push_back(null_buffer<a>("save_mean_not_null", true, &a::save_mean, base_mode::training));
  out.push_back(null_buffer<a>("save_invstd_not_null", true, &a::save_invstd, base_mode::training));
  out.push_back(
      null_buffer<a>("running_mean_not_null", true, &a::running_mean, base_mode::eval_tracked));
  out.push_back(
      null_buffer<a>("running_var_not_null", true, &a::running_var, base_mode::eval_tracked));
  for (malformed_call& c : abi_1_1_calls(true)) out.push_back(std::move(c));
  out.push_back(one_value_per_channel(true));
  return out;
}

std::uint32_t op_of(bool backward, bool training) {
  if (training) return backward ? BNC_OP_BACKWARD_TRAINING : BNC_OP_FORWARD_TRAINING;
  return backward ? BNC_OP_BACKWARD_EVAL : BNC_OP_FORWARD_EVAL;
}

// Inputs of the base call: small distinct values, exact in every dtype.
tensor inputs_of(const problem& p, double offset) {
  tensor t(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < t.size(); ++i) {
    t.set(i, offset + 0.5 * static_cast<double>(i % 7));
  }
  return t;
}

tensor filled(dtype t, std::int64_t count, double v) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, v);
  return out;
}

// The counter is the kernel's only when it keeps the module state; otherwise the
// caller moves it, and only after a successful call.
bool same_state(const module_state& a, const module_state& b, bool kernel_keeps_state) {
  return a.running_mean.bitwise_equal(b.running_mean) &&
         a.running_var.bitwise_equal(b.running_var) &&
         (!kernel_keeps_state || a.num_batches_tracked == b.num_batches_tracked);
}

// What is wrong with one answer; empty when it is right.
std::string judge(const malformed_call& c, const call_status& status,
                  const std::vector<guard_finding>& guards, const module_state& before,
                  const module_state& after, bool kernel_keeps_state) {
  std::string wrong;
  const auto add = [&](const std::string& what) { wrong += (wrong.empty() ? "" : "; ") + what; };
  if (status.code != c.expected) {
    add("expected " + std::string(name_of(c.expected)) + ", got " +
        std::string(name_of(status.code)) +
        (status.message.empty() ? "" : " (" + status.message + ")"));
  } else if (status.message.empty()) {
    add("returned " + std::string(name_of(status.code)) + " with an empty message");
  }
  for (const guard_finding& g : guards) add(describe(g));
  if (!same_state(before, after, kernel_keeps_state))
    add("the module state changed (running statistics or counter)");
  return wrong;
}

}  // namespace

std::string malformed_call::name() const {
  return std::string(backward ? "backward/" : "forward/") + std::string(clause);
}

const std::vector<malformed_call>& malformed_calls() {
  static const std::vector<malformed_call> all = [] {
    std::vector<malformed_call> out = forward_calls();
    for (malformed_call& c : backward_calls()) out.push_back(std::move(c));
    return out;
  }();
  return all;
}

const malformed_call* find_malformed_call(std::string_view name) {
  for (const malformed_call& c : malformed_calls()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

std::uint32_t base_operation(const malformed_call& c, const bnc_capabilities& caps) {
  const std::uint32_t training = op_of(c.backward, true);
  const std::uint32_t eval = op_of(c.backward, false);
  switch (c.mode) {
    case base_mode::training: return (caps.operations & training) != 0 ? training : 0;
    case base_mode::eval_tracked: return (caps.operations & eval) != 0 ? eval : 0;
    case base_mode::any:
      if ((caps.operations & training) != 0) return training;
      return (caps.operations & eval) != 0 ? eval : 0;
  }
  return 0;
}

bool applies_to(const malformed_call& c, const bnc_capabilities& caps, profile pf) {
  if (c.state == state_rule::kernel_keeps_state && caps.keeps_module_state == 0) return false;
  if (c.state == state_rule::caller_keeps_state && caps.keeps_module_state != 0) return false;
  if (c.pytorch_and_onnx_only && pf != profile::pytorch && pf != profile::onnx) return false;
  return base_operation(c, caps) != 0;
}

malformed_result run_malformed(const kernel& k, const malformed_call& c, const problem& base) {
  malformed_result out;
  const problem& p = base;
  const tensor x = inputs_of(p, 1.0);
  const tensor dy = inputs_of(p, -1.5);
  const tensor save_mean = filled(p.stats_type(), p.channels(), 2.0);
  const tensor save_invstd = filled(p.stats_type(), p.channels(), 0.5);
  for (const malformed_variant& v : c.variants) {
    call_edit edit;
    module_state state = module_state::initial(p);
    state.num_batches_tracked = 3;
    v.make(edit, state);
    const module_state before = state;
    call_status status;
    std::vector<guard_finding> guards;
    if (c.backward) {
      backward_outputs o = k.backward(p, x, dy, state, save_mean, save_invstd, &edit);
      status = std::move(o.status);
      guards = std::move(o.guards);
    } else {
      forward_outputs o = k.forward(p, x, state, &edit);
      status = std::move(o.status);
      guards = std::move(o.guards);
    }
    ++out.calls;
    const std::string wrong =
        judge(c, status, guards, before, state, k.capabilities().keeps_module_state != 0);
    const std::string answer =
        std::string(name_of(status.code)) + (status.message.empty() ? "" : ": " + status.message);
    out.details.push_back(v.what + " -> " + (wrong.empty() ? answer : "WRONG: " + wrong));
    if (!wrong.empty() && out.result == check::verdict::pass) {
      out.result = check::verdict::fail;
      out.reason = "malformed call accepted or mishandled (clause " + std::string(c.clause) + ", " +
                   v.what + ", " + p.to_string() + "): " + wrong;
    }
  }
  if (out.result == check::verdict::pass) {
    out.reason = "every malformed call of clause " + std::string(c.clause) + " rejected with " +
                 std::string(name_of(c.expected)) + ", nothing written";
  }
  return out;
}

}  // namespace bnconform::battery
