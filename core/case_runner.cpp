#include "case_runner.hpp"

#include <utility>

namespace bnconform {

bool case_result::ok() const {
  for (const step_result& s : steps) {
    if (!s.ok()) return false;
  }
  return true;
}

namespace {

// What a later backward step takes from a forward step.
struct forward_record {
  bool ok = false;
  tensor save_mean, save_invstd;
};

bool same_state(const module_state& a, const module_state& b) {
  return a.running_mean.bitwise_equal(b.running_mean) &&
         a.running_var.bitwise_equal(b.running_var) &&
         a.num_batches_tracked == b.num_batches_tracked;
}

void record_state(step_result& r, const problem& p, const module_state& state) {
  r.has_state = true;
  if (!p.track_running_stats()) return;
  r.state.push_back({"running_mean", state.running_mean});
  r.state.push_back({"running_var", state.running_var});
  r.num_batches_tracked = state.num_batches_tracked;
}

step_result run_forward(const kernel& k, const case_step& step, module_state& state,
                        forward_record& record) {
  step_result r;
  r.problem = step.prob.to_string();
  const std::string reason = k.unsupported_reason(step.prob, false);
  if (!reason.empty()) {
    r.status = name_of(BNC_STATUS_UNSUPPORTED);
    r.message = "not called: " + reason;
    record_state(r, step.prob, state);
    return r;
  }
  const module_state before = state;
  forward_outputs out = k.forward(step.prob, *step.x, state);
  r.status = name_of(out.status.code);
  r.message = out.status.message;
  if (out.status.ok()) {
    r.outputs.push_back({"y", std::move(out.y)});
    if (step.prob.uses_batch_statistics()) {
      record = {true, out.save_mean, out.save_invstd};
      r.outputs.push_back({"save_mean", std::move(out.save_mean)});
      r.outputs.push_back({"save_invstd", std::move(out.save_invstd)});
    }
  } else if (!same_state(before, state)) {
    // The ABI says a rejected call moves nothing; later steps must not inherit
    // the damage, so the state is put back and the breach is reported.
    state = before;
    r.message += " [bnconform: the kernel changed the module state although it failed; restored]";
  }
  record_state(r, step.prob, state);
  return r;
}

step_result run_backward(const kernel& k, const case_file& c, std::size_t index,
                         const module_state& state, const std::vector<forward_record>& records) {
  const case_step& step = c.steps[index];
  step_result r;
  r.op = step_op::backward;
  r.problem = step.prob.to_string();
  const tensor& x = step.x ? *step.x : *c.steps[*step.latest_forward].x;
  tensor save_mean, save_invstd;
  if (step.prob.uses_batch_statistics()) {
    if (step.save_mean) {
      save_mean = *step.save_mean;
      save_invstd = *step.save_invstd;
    } else if (records[*step.latest_forward].ok) {
      save_mean = records[*step.latest_forward].save_mean;
      save_invstd = records[*step.latest_forward].save_invstd;
    } else {
      r.status = "skipped";
      r.message = "not called: its saved statistics come from steps[" +
                  std::to_string(*step.latest_forward) + "], which failed";
      return r;
    }
  }
  const std::string reason = k.unsupported_reason(step.prob, true);
  if (!reason.empty()) {
    r.status = name_of(BNC_STATUS_UNSUPPORTED);
    r.message = "not called: " + reason;
    return r;
  }
  backward_outputs out = k.backward(step.prob, x, step.dy, state, save_mean, save_invstd);
  r.status = name_of(out.status.code);
  r.message = out.status.message;
  if (out.status.ok()) {
    r.outputs.push_back({"dx", std::move(out.dx)});
    if (step.prob.affine()) {
      r.outputs.push_back({"dgamma", std::move(out.dgamma)});
      r.outputs.push_back({"dbeta", std::move(out.dbeta)});
    }
  }
  return r;
}

std::string tensor_json(const tensor& t, bool hex) {
  std::string s = "{\"dtype\": \"" + std::string(name_of(t.type())) + "\", \"values\": [";
  for (std::int64_t i = 0; i < t.size(); ++i) {
    if (i > 0) s += ", ";
    s += json_value(t.get(i), t.type(), hex);
  }
  return s + "]}";
}

std::string tensors_json(const std::vector<named_tensor>& tensors, const std::string& extra,
                         bool hex) {
  if (tensors.empty() && extra.empty()) return "{}";
  std::string s = "{";
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    s += (i > 0 ? ",\n        " : "\n        ") + json_string(tensors[i].name) + ": " +
         tensor_json(tensors[i].values, hex);
  }
  if (!extra.empty()) s += (tensors.empty() ? "\n        " : ",\n        ") + extra;
  return s + "\n      }";
}

std::string step_json(const step_result& r, bool hex) {
  std::string s = "    {\n";
  s += "      \"op\": " + json_string(name_of(r.op)) + ",\n";
  s += "      \"problem\": " + json_string(r.problem) + ",\n";
  s += "      \"status\": " + json_string(r.status) + ",\n";
  s += "      \"message\": " + json_string(r.message) + ",\n";
  s += "      \"outputs\": " + tensors_json(r.outputs, "", hex);
  if (r.has_state) {
    const std::string counter =
        r.num_batches_tracked ? "\"num_batches_tracked\": " + std::to_string(*r.num_batches_tracked)
                              : "";
    s += ",\n      \"state\": " + tensors_json(r.state, counter, hex);
  }
  return s + "\n    }";
}

}  // namespace

case_result run_case(const kernel& k, const case_file& c) {
  case_result result{k.name(), k.version(), c.path, {}};
  module_state state = c.state;
  std::vector<forward_record> records(c.steps.size());
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    if (c.steps[i].op == step_op::forward) {
      result.steps.push_back(run_forward(k, c.steps[i], state, records[i]));
    } else {
      result.steps.push_back(run_backward(k, c, i, state, records));
    }
  }
  return result;
}

std::string to_json(const case_result& r, bool hex) {
  std::string s = "{\n";
  s += "  \"kernel\": " + json_string(r.kernel_name) + ",\n";
  s += "  \"kernel_version\": " + json_string(r.kernel_version) + ",\n";
  s += "  \"case\": " + json_string(r.case_name) + ",\n";
  s += "  \"steps\": [\n";
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    s += step_json(r.steps[i], hex) + (i + 1 < r.steps.size() ? ",\n" : "\n");
  }
  s += "  ],\n";
  s += std::string("  \"ok\": ") + (r.ok() ? "true" : "false") + "\n}\n";
  return s;
}

}  // namespace bnconform
