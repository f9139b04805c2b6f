#include "checker.hpp"

#include "core/error.hpp"
#include "core/float_bits.hpp"
#include "core/rounding.hpp"
#include "reference/reference.hpp"
#include "regen.hpp"

namespace bnconform::golden {

namespace {

const tensor* find(const std::vector<named_tensor>& list, std::string_view name) {
  for (const named_tensor& t : list) {
    if (t.name == name) return &t.values;
  }
  return nullptr;
}

// The stored outputs of a step must be the reference's, bit for bit.
void expect_same(const std::string& where, const char* name, const tensor* stored,
                 const reference::output& computed) {
  if (stored == nullptr) {
    if (!computed.rounded.empty()) report_error(where + ": no stored " + name);
    return;
  }
  if (static_cast<std::size_t>(stored->size()) != computed.rounded.size()) {
    report_error(where + ": stored " + name + " has the wrong size");
  }
  for (std::int64_t i = 0; i < stored->size(); ++i) {
    const double r = computed.rounded[static_cast<std::size_t>(i)];
    if (!same_value(stored->get(i), r)) {
      report_error(where + ": stored " + name + "[" + std::to_string(i) + "] = " +
                   hex_float(stored->get(i)) + " but the reference computes " + hex_float(r) +
                   ": the golden file is stale; regenerate it (bnconform golden regen)");
    }
  }
}

void expect_status(const std::string& where, const step_result& stored, const call_status& s) {
  if (stored.status != bnconform::name_of(s.code)) {
    report_error(where + ": stored status " + stored.status + " but the reference returns " +
                 std::string(bnconform::name_of(s.code)) +
                 ": the golden file is stale; regenerate it (bnconform golden regen)");
  }
}

void fold(case_verdict& v, std::size_t step, const check::comparison& c) {
  v.steps.push_back({step, c});
  v.worst_ratio = std::max(v.worst_ratio, c.worst_ratio);
  if (severity(c.result) <= severity(v.result)) return;
  v.result = c.result;
  v.reason = "steps[" + std::to_string(step) + "]: " + c.reason;
  v.details = c.first_mismatches;
  for (const std::string& n : c.notes) v.details.push_back("note: " + n);
}

// The module state the reference had after a forward step.
void advance(module_state& state, const step_result& expected) {
  if (!expected.ok() || !expected.has_state) return;
  if (const tensor* rm = find(expected.state, "running_mean")) state.running_mean = *rm;
  if (const tensor* rv = find(expected.state, "running_var")) state.running_var = *rv;
  if (expected.num_batches_tracked) state.num_batches_tracked = *expected.num_batches_tracked;
}

check::options options_for(const golden_case& g, check::level level, int bits = reference_bits) {
  check::options opt;
  opt.judged_at = level;
  // Exact fill: the statistics must be exact (tolerance.md, "Exact results").
  opt.exact_statistics = g.spec && g.spec->fill == "exact";
  opt.check_determinism = false;
  opt.reference_bits = bits;
  return opt;
}

std::vector<reference::channel_quantities> quantities_of(const problem& p,
                                                         const reference::call_inputs& in, bool ok,
                                                         int bits) {
  if (!ok) return {};
  return reference::quantities(p, in, {bits});
}

reference::forward_result recompute_forward(const golden_case& g, std::size_t i,
                                            const module_state& state, int bits) {
  const case_step& step = g.inputs.steps[i];
  const step_result& stored = g.expected.steps[i];
  const std::string where = g.name + ": expected.steps[" + std::to_string(i) + "]";
  const reference::forward_result r =
      reference::forward(step.prob, reference::call_inputs::from(*step.x, tensor(), state), {bits});
  expect_status(where, stored, r.status);
  if (!r.status.ok()) return r;
  expect_same(where, "y", find(stored.outputs, "y"), r.y);
  // Saved statistics of an empty batch are undefined (docs/reference.md).
  if (step.prob.reduction_size() > 0) {
    expect_same(where, "save_mean", find(stored.outputs, "save_mean"), r.save_mean);
    expect_same(where, "save_invstd", find(stored.outputs, "save_invstd"), r.save_invstd);
  }
  if (step.prob.track_running_stats()) {
    expect_same(where, "running_mean", find(stored.state, "running_mean"), r.running_mean);
    expect_same(where, "running_var", find(stored.state, "running_var"), r.running_var);
  }
  return r;
}

check::comparison check_forward(const kernel& k, const golden_case& g, std::size_t i,
                                const module_state& state, const check::options& opt) {
  const case_step& step = g.inputs.steps[i];
  const reference::forward_result expected = recompute_forward(g, i, state, opt.reference_bits);
  if (const std::string why = k.unsupported_reason(step.prob, false); !why.empty()) {
    check::comparison c;
    c.result = check::verdict::unsupported;
    c.reason = "not called: " + why;
    return c;
  }
  module_state after = state;
  const forward_outputs got = k.forward(step.prob, *step.x, after);
  const reference::call_inputs in = reference::call_inputs::from(*step.x, tensor(), state);
  return check::compare_forward(
      step.prob, *step.x, state, expected,
      quantities_of(step.prob, in, expected.status.ok(), opt.reference_bits), got, after, opt);
}

check::comparison check_backward(const kernel& k, const golden_case& g, std::size_t i,
                                 const module_state& state, const check::options& opt) {
  const case_step& step = g.inputs.steps[i];
  const step_result& stored = g.expected.steps[i];
  const std::string where = g.name + ": expected.steps[" + std::to_string(i) + "]";
  const std::size_t source = *step.latest_forward;
  const tensor& x = step.x ? *step.x : *g.inputs.steps[source].x;
  const reference::call_inputs in = reference::call_inputs::from(x, step.dy, state);
  const reference::backward_result expected =
      reference::backward(step.prob, in, {opt.reference_bits});
  expect_status(where, stored, expected.status);
  if (expected.status.ok()) {
    expect_same(where, "dx", find(stored.outputs, "dx"), expected.dx);
    expect_same(where, "dgamma", find(stored.outputs, "dgamma"), expected.dgamma);
    expect_same(where, "dbeta", find(stored.outputs, "dbeta"), expected.dbeta);
  }
  if (const std::string why = k.unsupported_reason(step.prob, true); !why.empty()) {
    check::comparison c;
    c.result = check::verdict::unsupported;
    c.reason = "not called: " + why;
    return c;
  }
  // The saved statistics the reference's forward step produced (or the step's own).
  tensor save_mean(step.prob.stats_type(), 0), save_invstd(step.prob.stats_type(), 0);
  if (step.prob.uses_batch_statistics()) {
    const auto& forward_outputs = g.expected.steps[source].outputs;
    const tensor* sm = step.save_mean ? &*step.save_mean : find(forward_outputs, "save_mean");
    const tensor* si = step.save_invstd ? &*step.save_invstd : find(forward_outputs, "save_invstd");
    if (sm == nullptr || si == nullptr) report_error(where + ": no saved statistics to call with");
    save_mean = *sm;
    save_invstd = *si;
  }
  const backward_outputs got = k.backward(step.prob, x, step.dy, state, save_mean, save_invstd);
  return check::compare_backward(
      step.prob, x, step.dy, state, expected,
      quantities_of(step.prob, in, expected.status.ok(), opt.reference_bits), got, opt);
}

}  // namespace

case_verdict check_case(const kernel& k, const golden_case& g, check::level level, int bits) {
  case_verdict v;
  v.name = g.name;
  const check::options opt = options_for(g, level, bits);
  module_state state = g.inputs.state;
  for (std::size_t i = 0; i < g.inputs.steps.size(); ++i) {
    const step_result& stored = g.expected.steps[i];
    if (g.inputs.steps[i].op == step_op::forward) {
      fold(v, i, check_forward(k, g, i, state, opt));
      advance(state, stored);
    } else if (stored.status != "skipped") {  // skipped: its forward failed, nothing to call
      fold(v, i, check_backward(k, g, i, state, opt));
    }
  }
  return v;
}

std::vector<check::comparison> check_external(const golden_case& g, check::level level) {
  std::vector<check::comparison> out;
  module_state state = g.inputs.state;
  std::size_t next = 0;
  for (const external_step& e : g.external) {
    for (; next < e.step; ++next) advance(state, g.expected.steps[next]);
    const case_step& step = g.inputs.steps[e.step];
    if (step.op != step_op::forward) report_error(g.name + ": external outputs of a backward step");
    const reference::forward_result expected = recompute_forward(g, e.step, state, reference_bits);
    // The external outputs as a kernel's. ONNX gives no saved statistics: the
    // reference's stand in for them, so only what ONNX gives is judged.
    forward_outputs got;
    got.y = *find(e.outputs, "y");
    got.save_mean = tensor::from_values(step.prob.stats_type(), expected.save_mean.rounded);
    got.save_invstd = tensor::from_values(step.prob.stats_type(), expected.save_invstd.rounded);
    module_state after = state;
    if (const tensor* rm = find(e.outputs, "running_mean")) after.running_mean = *rm;
    if (const tensor* rv = find(e.outputs, "running_var")) after.running_var = *rv;
    if (step.prob.mode() == mode::training && step.prob.track_running_stats()) {
      ++after.num_batches_tracked;  // ONNX has no counter; the harness keeps it
    }
    check::options opt = options_for(g, level);
    const reference::call_inputs in = reference::call_inputs::from(*step.x, tensor(), state);
    out.push_back(check::compare_forward(
        step.prob, *step.x, state, expected,
        quantities_of(step.prob, in, expected.status.ok(), reference_bits), got, after, opt));
  }
  return out;
}

}  // namespace bnconform::golden
