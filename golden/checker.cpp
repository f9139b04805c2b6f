#include "checker.hpp"

#include <algorithm>

#include "core/float_bits.hpp"
#include "core/rounding.hpp"

namespace bnconform::golden {

std::string_view name_of(outcome o) {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::ill_posed: return "ill-posed";
    case outcome::unsupported: return "unsupported";
    case outcome::fail: return "fail";
  }
  return "fail";
}

namespace {

constexpr std::size_t max_details = 10;

const tensor* find(const std::vector<named_tensor>& list, std::string_view name) {
  for (const named_tensor& t : list) {
    if (t.name == name) return &t.values;
  }
  return nullptr;
}

class judge {
 public:
  explicit judge(case_verdict& v) : v_(v) {}

  void mark(std::size_t step, outcome o, const std::string& why) {
    if (o > v_.result) {
      v_.result = o;
      v_.reason = "steps[" + std::to_string(step) + "]: " + why;
    }
  }

  void detail(std::string text) {
    if (v_.details.size() < max_details) v_.details.push_back(std::move(text));
  }

  // Exact comparison: bit for bit, every NaN equal to every NaN. The reference at
  // another precision must meet it (its rounding is settled); the error model
  // replaces it for other kernels.
  void compare(std::size_t step, const std::string& name, const tensor& got,
               const tensor& expected) {
    if (got.size() != expected.size() || got.type() != expected.type()) {
      mark(step, outcome::fail, name + ": wrong size or dtype");
      return;
    }
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < got.size(); ++i) {
      if (same_value(got.get(i), expected.get(i))) continue;
      if (++wrong == 1 || v_.details.size() < max_details) {
        detail("steps[" + std::to_string(step) + "]." + name + "[" + std::to_string(i) + "]: got " +
               hex_float(got.get(i)) + ", expected " + hex_float(expected.get(i)));
      }
    }
    if (wrong > 0) {
      mark(step, outcome::fail,
           name + ": " + std::to_string(wrong) + " of " + std::to_string(got.size()) +
               " elements differ from the golden values");
    }
  }

  void guards(std::size_t step, const std::vector<guard_finding>& findings) {
    for (const guard_finding& f : findings) {
      detail("steps[" + std::to_string(step) + "]: " + std::string(name_of(f.kind)) + " " +
             f.buffer + ": " + f.detail);
    }
    if (!findings.empty()) {
      mark(step, outcome::fail,
           "harness guard: " + std::string(name_of(findings.front().kind)) + " in " +
               findings.front().buffer);
    }
  }

  // True when the outputs are worth comparing (both succeeded).
  bool status(std::size_t step, const step_result& expected, const call_status& got) {
    const std::string got_name(bnconform::name_of(got.code));
    if (got.code == BNC_STATUS_UNSUPPORTED && expected.status != got_name) {
      mark(step, outcome::unsupported, "the kernel reports unsupported: " + got.message);
      return false;
    }
    if (got_name != expected.status) {
      mark(step, outcome::fail,
           "status " + got_name + (got.message.empty() ? "" : " (" + got.message + ")") +
               ", expected " + expected.status +
               (expected.message.empty() ? "" : " (" + expected.message + ")"));
      return false;
    }
    return got.ok();
  }

 private:
  case_verdict& v_;
};

bool same_state(const module_state& a, const module_state& b) {
  return a.running_mean.bitwise_equal(b.running_mean) &&
         a.running_var.bitwise_equal(b.running_var) &&
         a.num_batches_tracked == b.num_batches_tracked;
}

// The module state the reference had after a forward step.
void advance(module_state& state, const step_result& expected) {
  if (!expected.ok() || !expected.has_state) return;
  if (const tensor* rm = find(expected.state, "running_mean")) state.running_mean = *rm;
  if (const tensor* rv = find(expected.state, "running_var")) state.running_var = *rv;
  if (expected.num_batches_tracked) state.num_batches_tracked = *expected.num_batches_tracked;
}

void check_forward(const kernel& k, const golden_case& g, std::size_t i, module_state& state,
                   judge& j) {
  const case_step& step = g.inputs.steps[i];
  const step_result& expected = g.expected.steps[i];
  const std::string reason = k.unsupported_reason(step.prob, false);
  if (!reason.empty()) {
    j.mark(i, outcome::unsupported, reason);
  } else {
    module_state after = state;
    const forward_outputs out = k.forward(step.prob, *step.x, after);
    j.guards(i, out.guards);
    if (j.status(i, expected, out.status)) {
      const bool ill_posed = expected.message.starts_with("ill-posed");
      if (ill_posed) j.mark(i, outcome::ill_posed, expected.message);
      // save_mean and save_invstd of an empty batch are undefined (docs/reference.md).
      const bool judge_saved = step.prob.reduction_size() > 0;
      for (const named_tensor& e : expected.outputs) {
        if (ill_posed || (!judge_saved && e.name != "y")) continue;
        const tensor& got = e.name == "y"           ? out.y
                            : e.name == "save_mean" ? out.save_mean
                                                    : out.save_invstd;
        j.compare(i, e.name, got, e.values);
      }
      if (!ill_posed) {
        for (const named_tensor& e : expected.state) {
          j.compare(i, e.name, e.name == "running_mean" ? after.running_mean : after.running_var,
                    e.values);
        }
      }
      if (expected.num_batches_tracked &&
          *expected.num_batches_tracked != after.num_batches_tracked) {
        j.mark(i, outcome::fail,
               "num_batches_tracked " + std::to_string(after.num_batches_tracked) + ", expected " +
                   std::to_string(*expected.num_batches_tracked));
      }
    } else if (!out.status.ok() && !same_state(after, state)) {
      j.mark(i, outcome::fail, "a failed call changed the module state");
    }
  }
  advance(state, expected);
}

void check_backward(const kernel& k, const golden_case& g, std::size_t i, const module_state& state,
                    judge& j) {
  const case_step& step = g.inputs.steps[i];
  const step_result& expected = g.expected.steps[i];
  if (expected.status == "skipped") return;  // its forward failed: nothing to call
  const std::size_t source = *step.latest_forward;
  const tensor& x = step.x ? *step.x : *g.inputs.steps[source].x;
  tensor save_mean, save_invstd;
  if (step.prob.uses_batch_statistics()) {
    // The reference's saved statistics of the forward step (or the step's own).
    const tensor* sm =
        step.save_mean ? &*step.save_mean : find(g.expected.steps[source].outputs, "save_mean");
    const tensor* si = step.save_invstd ? &*step.save_invstd
                                        : find(g.expected.steps[source].outputs, "save_invstd");
    if (sm == nullptr || si == nullptr) {
      j.mark(i, outcome::fail, "the golden file has no saved statistics for this backward");
      return;
    }
    save_mean = *sm;
    save_invstd = *si;
  }
  const std::string reason = k.unsupported_reason(step.prob, true);
  if (!reason.empty()) {
    j.mark(i, outcome::unsupported, reason);
    return;
  }
  const backward_outputs out = k.backward(step.prob, x, step.dy, state, save_mean, save_invstd);
  j.guards(i, out.guards);
  if (!j.status(i, expected, out.status)) return;
  if (expected.message.starts_with("ill-posed")) {
    j.mark(i, outcome::ill_posed, expected.message);
    return;
  }
  for (const named_tensor& e : expected.outputs) {
    j.compare(i, e.name,
              e.name == "dx"       ? out.dx
              : e.name == "dgamma" ? out.dgamma
                                   : out.dbeta,
              e.values);
  }
}

}  // namespace

case_verdict check_case(const kernel& k, const golden_case& g) {
  case_verdict v;
  v.name = g.name;
  judge j(v);
  module_state state = g.inputs.state;
  for (std::size_t i = 0; i < g.inputs.steps.size(); ++i) {
    if (g.inputs.steps[i].op == step_op::forward) {
      check_forward(k, g, i, state, j);
    } else {
      check_backward(k, g, i, state, j);
    }
  }
  return v;
}

}  // namespace bnconform::golden
