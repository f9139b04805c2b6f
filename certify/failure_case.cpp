#include "failure_case.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "battery/degenerate_catalog.hpp"
#include "battery_runner.hpp"
#include "core/error.hpp"
#include "golden/golden_file.hpp"
#include "properties/generated_case.hpp"
#include "reference/reference.hpp"

namespace bnconform::certify {

namespace {

// A case file holds every value as text: beyond this many elements in a step the
// file would run to tens of megabytes, and the repro line is the better replay.
constexpr std::int64_t largest_step = std::int64_t{1} << 20;

std::string file_name_of(const std::string& item_name) {
  std::string out;
  for (const char ch : item_name) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    out += plain ? ch : '-';
  }
  return out;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

tensor stats_tensor(const problem& p, const std::vector<double>& values) {
  tensor t(p.stats_type(), p.channels());
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    t.set(c, c < static_cast<std::int64_t>(values.size()) ? values[static_cast<std::size_t>(c)]
                                                          : std::nan(""));
  }
  return t;
}

// A backward step judged on its own, as check::run_backward judges it: explicit x
// and dy, and in batch-statistics mode the reference's saved statistics of x.
case_step lone_backward(const problem& p, const problem& base, const tensor& x, const tensor& dy,
                        const module_state& state) {
  case_step step(step_op::backward, p);
  if (p.mode() != base.mode()) step.mode_override = p.mode();
  step.x = x;
  step.dy = dy;
  if (p.uses_batch_statistics()) {
    const reference::forward_result f =
        reference::forward(p, reference::call_inputs::from(x, tensor(), state));
    const bool have = f.status.ok() && p.reduction_size() > 0;
    step.save_mean = stats_tensor(p, have ? f.save_mean.rounded : std::vector<double>{});
    step.save_invstd = stats_tensor(p, have ? f.save_invstd.rounded : std::vector<double>{});
  }
  return step;
}

case_step forward_step(const problem& p, const problem& base, const tensor& x) {
  case_step step(step_op::forward, p);
  if (p.mode() != base.mode()) step.mode_override = p.mode();
  step.x = x;
  return step;
}

case_file with_state(const problem& p, const module_state& state) {
  case_file c("", p);
  c.state_given = true;
  c.state = state;
  return c;
}

case_file coverage_case(const item& it, const certification& c) {
  const std::optional<cell> where = parse_cell(it.subject);
  if (!where) report_error("coverage: unknown cell '" + it.subject + "'");
  const problem p = coverage_problem(*where, c.identity.capabilities, profile_of(c.options));
  const properties::case_inputs in =
      properties::make_inputs({p, properties::value_kind::normal, c.options.seed});
  case_file out = with_state(p, in.state);
  out.description = "certify's coverage case of " + it.subject;
  out.steps.push_back(is_backward(*where) ? lone_backward(p, p, in.x, in.dy, in.state)
                                          : forward_step(p, p, in.x));
  return out;
}

case_file degenerate_case_file(const item& it, profile pf) {
  for (const battery::degenerate_case& dc : battery::degenerate_catalog()) {
    if (dc.name != it.subject) continue;
    const problem base = battery::problem_in(dc, pf);
    battery::call_data d;
    dc.fill(base, d);
    case_file out = with_state(base, d.state);
    out.description = "the degenerate case " + std::string(dc.name) + ": " + std::string(dc.what);
    for (const char letter : dc.steps) {
      const problem p = base.with_mode(letter == 'E' ? mode::eval : mode::training);
      // Backward calls are judged on the state they start from; forward calls on
      // the state the previous one left, as the case runner shares it.
      out.steps.push_back(dc.backward ? lone_backward(p, base, d.x, d.dy, d.state)
                                      : forward_step(p, base, d.x));
    }
    return out;
  }
  report_error("degenerate: no case named '" + it.subject + "'");
}

case_file generated_case_file(const std::string& repro, const bnc_capabilities& caps) {
  const properties::generated_case g = properties::parse_case(repro);
  const properties::case_inputs in = properties::make_inputs(g);
  case_file out = with_state(g.p, in.state);
  out.description = "the generated case " + repro;
  out.steps.push_back(forward_step(g.p, g.p, in.x));
  // The backward of the same call, where the kernel declares it: it takes the
  // forward's x and saved statistics.
  if (declared(caps, cell_of(g.p, true))) {
    case_step backward(step_op::backward, g.p);
    backward.dy = in.dy;
    backward.latest_forward = 0;
    out.steps.push_back(std::move(backward));
  }
  return out;
}

// A realistic item as certify ran it: the inputs of a generated case of its problem
// (normal values), the forward step and the backward judged on its own (with the
// reference's saved statistics), each where the kernel declares it.
case_file realistic_case_file(const item& it, const certification& c) {
  const properties::generated_case g{problem::parse(it.subject), properties::value_kind::normal,
                                     c.options.seed};
  const properties::case_inputs in = properties::make_inputs(g);
  const bnc_capabilities& caps = c.identity.capabilities;
  const bool rank_ok = g.p.rank() >= caps.min_rank && g.p.rank() <= caps.max_rank;
  case_file out = with_state(g.p, in.state);
  out.description = "certify's item " + it.name;
  if (rank_ok && declared(caps, cell_of(g.p, false))) {
    out.steps.push_back(forward_step(g.p, g.p, in.x));
  }
  if (rank_ok && declared(caps, cell_of(g.p, true))) {
    out.steps.push_back(lone_backward(g.p, g.p, in.x, in.dy, in.state));
  }
  return out;
}

std::int64_t largest_step_of(const case_file& c) {
  std::int64_t most = 0;
  for (const case_step& s : c.steps) most = std::max(most, s.prob.element_count());
  return most;
}

failure_case failure_case_of(const item_outcome& o, const std::vector<item>& fixed,
                             const certification& c) {
  failure_case f;
  f.item = o.name;
  f.file_name = file_name_of(o.name) + ".json";
  const auto it =
      std::find_if(fixed.begin(), fixed.end(), [&](const item& i) { return i.name == o.name; });
  std::optional<case_file> replay;
  if (!o.counterexample.empty()) {
    try {
      replay = generated_case_file(o.counterexample, c.identity.capabilities);
    } catch (const error&) {
      f.why_none = "its counterexample is not a generated case: " + o.counterexample;
    }
  } else if (o.kind == group::properties) {
    f.why_none = "the round failed outside any case (its reason says why)";
  } else if (it == fixed.end()) {
    f.why_none = "not an item of the plan";
  } else if (it->kind == group::coverage) {
    replay = coverage_case(*it, c);
  } else if (it->kind == group::degenerate) {
    replay = degenerate_case_file(*it, profile_of(c.options));
  } else if (it->kind == group::golden) {
    replay = golden::read_golden_file(it->subject).inputs;
    replay->finding.reset();
  } else if (it->kind == group::views || (it->kind == group::realistic && !it->subject.empty())) {
    replay = realistic_case_file(*it, c);
  } else if (it->kind == group::realistic) {
    f.why_none = "the kernel declares nothing the realistic group can run";
  } else if (it->kind == group::reproducibility) {
    f.why_none =
        "a reproducibility item compares the kernel with itself under other CPU counts, which a "
        "case does not replay; the repro line reruns it";
  } else if (it->kind == group::distributed) {
    f.why_none =
        "a distributed item runs over several processes, which a case file does not replay; the "
        "repro line reruns it";
  } else if (it->kind == group::malformed) {
    f.why_none =
        "a malformed call breaks the ABI itself, which a case file cannot state; the repro line "
        "reruns it";
  } else {
    f.why_none =
        "a gradient check compares the kernel with its own finite differences, which a case "
        "does not replay";
  }
  if (replay && largest_step_of(*replay) > largest_step) {
    f.why_none = "a step of " + std::to_string(largest_step_of(*replay)) +
                 " elements is too large for a case file";
    replay.reset();
  }
  if (replay) {
    replay->path = f.file_name;
    replay->finding = case_finding{c.source.argument,
                                   std::string(check::name_of(c.options.level)),
                                   std::string(check::name_of(o.result)),
                                   one_line(o.reason),
                                   std::to_string(c.options.seed),
                                   o.repro};
    f.replay = std::move(replay);
  }
  return f;
}

}  // namespace

std::vector<failure_case> failure_cases(const certification& c) {
  std::vector<failure_case> out;
  if (!c.loaded) return out;
  const std::vector<item> fixed = make_plan(c.identity.capabilities, c.options).fixed;
  std::set<std::string> names;
  for (const item_outcome& o : c.items) {
    if (!o.failed()) continue;
    failure_case f = failure_case_of(o, fixed, c);
    // Distinct item names may sanitize alike: number the later ones.
    const std::string stem = f.file_name.substr(0, f.file_name.size() - 5);
    for (int k = 2; !names.insert(f.file_name).second; ++k) {
      f.file_name = stem + "-" + std::to_string(k) + ".json";
    }
    if (f.replay) f.replay->path = f.file_name;
    out.push_back(std::move(f));
  }
  return out;
}

std::string replay_command(const certification& c, const std::string& path) {
  return "bnconform check '" + path + "' --kernel " + c.source.argument + " --level " +
         std::string(check::name_of(c.options.level));
}

}  // namespace bnconform::certify
