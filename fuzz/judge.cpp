#include "judge.hpp"

#include <algorithm>

#include "check/compare.hpp"
#include "core/error.hpp"

namespace bnconform::fuzz {

namespace {

judgement from(const check::comparison& c, const char* op) {
  judgement j;
  j.result = c.result;
  j.worst_ratio = c.worst_ratio;
  if (c.result != check::verdict::pass) j.reason = std::string(op) + ": " + c.reason;
  if (!c.passed()) j.details = c.describe();
  return j;
}

}  // namespace

bool judgement::is_finding() const { return check::is_failure(result); }

fuzz_inputs inputs_of(const kernel& k, const properties::generated_case& c) {
  properties::case_inputs made = properties::make_inputs(c);
  fuzz_inputs in{c.p, std::move(made.x), std::nullopt, std::move(made.state),
                 c.kind == properties::value_kind::exact_fill};
  if (k.unsupported_reason(c.p, true).empty()) in.dy = std::move(made.dy);
  return in;
}

fuzz_inputs inputs_of(const case_file& c) {
  if (c.steps.empty() || c.steps[0].op != step_op::forward || !c.steps[0].x || c.steps.size() > 2 ||
      (c.steps.size() == 2 && c.steps[1].op != step_op::backward) || c.steps[0].mode_override ||
      c.steps[0].shape_override) {
    report_error(c.path + ": not a fuzz case (one forward step, optionally its backward)");
  }
  fuzz_inputs in{c.base, *c.steps[0].x, std::nullopt, c.state, false};
  if (c.steps.size() == 2) {
    const case_step& back = c.steps[1];
    if (back.mode_override || back.shape_override || back.x || back.save_mean) {
      report_error(c.path + ": not a fuzz case (its backward step overrides the forward's)");
    }
    in.dy = back.dy;
  }
  // The value kind (exact fills are judged more strictly) is in the repro line.
  if (c.finding) {
    try {
      in.exact_fill =
          properties::parse_case(c.finding->repro).kind == properties::value_kind::exact_fill;
    } catch (const error& e) {
      report_error(c.path + ": finding.repro: " + e.what());
    }
  }
  return in;
}

judgement judge(const kernel& k, const fuzz_inputs& in, check::level l) {
  check::options opt;
  opt.judged_at = l;
  opt.exact_statistics = in.exact_fill;
  const judgement forward = from(
      check::with_enough_precision(
          opt,
          [&](const check::options& o) { return check::run_forward(k, in.p, in.x, in.state, o); }),
      "forward");
  if (forward.result == check::verdict::fail || !in.dy) return forward;
  const judgement backward = from(
      check::with_enough_precision(opt,
                                   [&](const check::options& o) {
                                     return check::run_backward(k, in.p, in.x, *in.dy, in.state, o);
                                   }),
      "backward");
  if (backward.result == check::verdict::fail) return backward;
  judgement out = forward.result != check::verdict::pass ? forward : backward;
  out.worst_ratio = std::max(forward.worst_ratio, backward.worst_ratio);
  return out;
}

case_file case_file_of(const fuzz_inputs& in, std::string description) {
  case_file c("(fuzz)", in.p);
  c.description = std::move(description);
  c.state_given = true;
  c.state = in.state;
  case_step forward(step_op::forward, in.p);
  forward.x = in.x;
  c.steps.push_back(std::move(forward));
  if (in.dy) {
    case_step backward(step_op::backward, in.p);
    backward.dy = *in.dy;
    backward.latest_forward = 0;
    c.steps.push_back(std::move(backward));
  }
  return c;
}

}  // namespace bnconform::fuzz
