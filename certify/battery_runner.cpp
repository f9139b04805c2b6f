#include "battery_runner.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <sstream>

#include "battery/degenerate_catalog.hpp"
#include "battery/gradient_check.hpp"
#include "battery/malformed_calls.hpp"
#include "check/compare.hpp"
#include "core/error.hpp"
#include "distributed_runner.hpp"
#include "golden/checker.hpp"
#include "golden/golden_file.hpp"
#include "properties/generated_case.hpp"
#include "properties/runner.hpp"
#include "reproducibility.hpp"

namespace bnconform::certify {

namespace {

using properties::generated_case;

// The values of the coverage and gradient cases: Gaussian, per-channel mean and
// spread, from the certification's seed.
properties::case_inputs inputs_for(const problem& p, std::uint64_t seed) {
  return properties::make_inputs(generated_case{p, properties::value_kind::normal, seed});
}

check::options compare_options(const settings& s) {
  check::options o;
  o.judged_at = s.level;
  o.check_determinism = true;
  return o;
}

void take_details(item_outcome& o, const check::comparison& c) {
  o.details = c.first_mismatches;
  for (const std::string& n : c.notes) o.details.push_back("note: " + n);
}

// The worst verdict decides; its reason and details describe the item.
void fold(item_outcome& o, const check::comparison& c, const std::string& where) {
  if (check::severity(c.result) <= check::severity(o.result)) return;
  o.result = c.result;
  o.reason = where.empty() ? c.reason : where + ": " + c.reason;
  take_details(o, c);
}

// The coverage case of a cell: 3 channels, 120 elements, every output judged.
void run_coverage(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  const std::optional<cell> c = parse_cell(it.subject);
  if (!c) report_error("coverage: unknown cell '" + it.subject + "'");
  const bool backward = is_backward(*c);
  const problem p = coverage_problem(*c, k.capabilities(), profile_of(s));
  const properties::case_inputs in = inputs_for(p, s.seed);
  const check::comparison cmp =
      backward ? check::run_backward(k, p, in.x, in.dy, in.state, compare_options(s))
               : check::run_forward(k, p, in.x, in.state, compare_options(s));
  o.add(cell_of(p, backward), cmp.result, cmp.worst_ratio, cmp.max_ulp, worst_element_of(cmp, p));
  o.cases = 1;
  fold(o, cmp, p.to_string());
}

// A layer at a network's shape: a forward step, then the backward of the same mode,
// each where the kernel declares it (the backward gets the reference's saved
// statistics, so it is judged on its own).
void run_realistic_item(const kernel& k, const item& it, const settings& s, item_outcome& o,
                        const std::function<void()>& alive) {
  if (it.subject.empty()) {
    o.result = check::verdict::unsupported;
    o.reason = "the kernel declares no forward call that the realistic shapes can use";
    return;
  }
  const problem p = problem::parse(it.subject);
  const bnc_capabilities& caps = k.capabilities();
  const bool rank_ok = p.rank() >= caps.min_rank && p.rank() <= caps.max_rank;
  const bool forward = rank_ok && declared(caps, cell_of(p, false));
  const bool backward = rank_ok && declared(caps, cell_of(p, true));
  if (!forward && !backward) {
    o.result = check::verdict::unsupported;
    o.reason = "the kernel declares neither " + to_string(cell_of(p, false)) + " nor " +
               to_string(cell_of(p, true)) + " at rank " + std::to_string(p.rank());
    return;
  }
  const properties::case_inputs in = inputs_for(p, s.seed);
  check::options opt = compare_options(s);
  opt.heartbeat = alive;
  if (forward) {
    const check::comparison cmp = check::run_forward(k, p, in.x, in.state, opt);
    o.add(cell_of(p, false), cmp.result, cmp.worst_ratio, cmp.max_ulp, worst_element_of(cmp, p));
    ++o.cases;
    fold(o, cmp, "forward");
  }
  if (backward) {
    const check::comparison cmp = check::run_backward(k, p, in.x, in.dy, in.state, opt);
    o.add(cell_of(p, true), cmp.result, cmp.worst_ratio, cmp.max_ulp, worst_element_of(cmp, p));
    ++o.cases;
    fold(o, cmp, "backward");
  }
}

// A problem with views (battery/view_cases.hpp): forward and backward, training and
// eval, each where the kernel declares the call and takes the views; judged as the
// same dense call would be.
void run_views_item(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  const problem trained = problem::parse(it.subject);
  const properties::case_inputs in = inputs_for(trained, s.seed);
  std::string not_taken;
  for (const mode md : {mode::training, mode::eval}) {
    const problem p = trained.with_mode(md);
    for (const bool backward : {false, true}) {
      const std::string why = k.unsupported_reason(p, backward);
      if (!why.empty()) {
        if (not_taken.empty()) not_taken = why;
        continue;
      }
      const check::comparison cmp =
          backward ? check::run_backward(k, p, in.x, in.dy, in.state, compare_options(s))
                   : check::run_forward(k, p, in.x, in.state, compare_options(s));
      o.add(cell_of(p, backward), cmp.result, cmp.worst_ratio, cmp.max_ulp,
            worst_element_of(cmp, p));
      ++o.cases;
      fold(o, cmp, std::string(backward ? "backward" : "forward") + " " + std::string(name_of(md)));
    }
  }
  if (o.cases == 0) {
    o.result = check::verdict::unsupported;
    o.reason = not_taken;
  }
}

// A clause's malformed calls, broken from the coverage problem of the first declared
// cell of the call's base operation.
void run_malformed_item(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  const battery::malformed_call* mc = battery::find_malformed_call(it.subject);
  if (mc == nullptr) report_error("malformed: no call named '" + it.subject + "'");
  if (mc->abi_1_1 && k.abi_minor() < 1) {
    o.result = check::verdict::unsupported;
    o.reason = "the kernel is built for ABI 1.0, which has no such argument";
    return;
  }
  const std::uint32_t op = battery::base_operation(*mc, k.capabilities());
  const std::vector<cell> cells = all_cells();
  const auto where = std::find_if(cells.begin(), cells.end(), [&](const cell& c) {
    return c.operation == op && declared(k.capabilities(), c);
  });
  if (op == 0 || where == cells.end()) {
    o.result = check::verdict::unsupported;
    o.reason = "the kernel declares no call that " + it.subject + " can be broken from";
    return;
  }
  const problem p = coverage_problem(*where, k.capabilities(), profile_of(s));
  const battery::malformed_result r = battery::run_malformed(k, *mc, p);
  o.add(*where, r.result, 0, 0);
  o.cases = r.calls;
  o.result = r.result;
  o.reason = r.reason;
  o.details = r.details;
}

void run_degenerate_item(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  for (const battery::degenerate_case& dc : battery::degenerate_catalog()) {
    if (dc.name != it.subject) continue;
    const battery::degenerate_result r =
        battery::run_degenerate(k, dc, compare_options(s), profile_of(s));
    const problem base = battery::problem_in(dc, profile_of(s));
    for (std::size_t i = 0; i < r.calls.size() && i < dc.steps.size(); ++i) {
      const problem p = base.with_mode(dc.steps[i] == 'E' ? mode::eval : mode::training);
      o.add(cell_of(p, dc.backward), r.calls[i].result, r.calls[i].worst_ratio, r.calls[i].max_ulp,
            worst_element_of(r.calls[i], p));
    }
    o.cases = static_cast<int>(r.calls.size());
    o.result = r.result;
    o.reason = r.reason;
    if (!r.calls.empty()) take_details(o, r.calls.back());
    return;
  }
  report_error("degenerate: no case named '" + it.subject + "'");
}

void run_golden_item(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  const golden::golden_case g = golden::read_golden_file(it.subject);
  if (name_of(g.inputs.base.profile()) != s.profile) {
    o.result = check::verdict::unsupported;
    o.reason =
        "a " + std::string(name_of(g.inputs.base.profile())) + " case; certifying " + s.profile;
    return;
  }
  const golden::case_verdict v = golden::check_case(k, g, s.level);
  for (const golden::step_judgement& j : v.steps) {
    const case_step& step = g.inputs.steps[j.step];
    o.add(cell_of(step.prob, step.op == step_op::backward), j.comparison.result,
          j.comparison.worst_ratio, j.comparison.max_ulp,
          worst_element_of(j.comparison, step.prob));
  }
  o.cases = static_cast<int>(std::count_if(v.steps.begin(), v.steps.end(), [](const auto& j) {
    return j.comparison.result != check::verdict::unsupported;
  }));
  o.result = v.result;
  o.reason = v.reason;
  o.details = v.details;
}

void run_gradient_item(const kernel& k, const item& it, const settings& s, item_outcome& o) {
  if (it.subject.empty()) {
    o.result = check::verdict::unsupported;
    o.reason =
        "the gradient checks need f64 forward and backward, which the kernel does not declare";
    return;
  }
  const problem p = problem::parse(it.subject);
  const properties::case_inputs in = inputs_for(p, s.seed);
  battery::gradcheck_options g;
  g.seed = s.seed;
  const battery::gradient_report r = battery::gradcheck(k, p, in.x, in.dy, in.state, g);
  o.add(cell_of(p, true), r.result, r.worst_ratio, 0,
        r.worst_where.empty() ? std::string() : r.worst_where + " of " + p.to_string());
  o.cases = 1;
  o.result = r.result;
  o.reason = r.reason;
  if (!r.worst_where.empty()) o.details.push_back("worst at " + r.worst_where);
}

check::verdict verdict_of(properties::property_verdict v) {
  switch (v) {
    case properties::property_verdict::passed: return check::verdict::pass;
    case properties::property_verdict::failed: return check::verdict::fail;
    case properties::property_verdict::unsupported: return check::verdict::unsupported;
    case properties::property_verdict::gave_up: return check::verdict::mistrusted;
  }
  return check::verdict::fail;
}

// Errors of the suite (a stale golden file, a broken catalog) are not the kernel's:
// they leave the item unjudged (item_outcome::suite_error), and certify refuses to
// certify around them. The prefix is for the reader.
constexpr std::string_view suite_error_prefix = "suite error: ";

template <class Body>
item_outcome timed(const item& it, const repro_context& r, Body body) {
  item_outcome o;
  o.kind = it.kind;
  o.name = it.name;
  const auto start = std::chrono::steady_clock::now();
  try {
    body(o);
  } catch (const std::exception& e) {
    o.result = check::verdict::mistrusted;
    o.suite_error = true;
    o.reason = std::string(suite_error_prefix) + e.what();
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.passed() && o.result != check::verdict::unsupported) o.repro = repro_command(r, o.name);
  return o;
}

}  // namespace

std::string worst_element_of(const check::comparison& c, const problem& p) {
  if (c.worst_output.empty()) return {};
  std::string at = c.worst_output + "(";
  for (std::size_t i = 0; i < c.worst_index.size(); ++i) {
    at += (i == 0 ? "" : ", ") + std::to_string(c.worst_index[i]);
  }
  return at + ") of " + p.to_string();
}

bool is_backward(const cell& c) {
  return c.operation == BNC_OP_BACKWARD_TRAINING || c.operation == BNC_OP_BACKWARD_EVAL;
}

problem coverage_problem(const cell& c, const bnc_capabilities& caps, profile pf) {
  const bool training =
      c.operation == BNC_OP_FORWARD_TRAINING || c.operation == BNC_OP_BACKWARD_TRAINING;
  // Rank 4 (4x3x5x2) unless the kernel declares a narrower range of ranks.
  constexpr std::array<std::string_view, 4> shapes{"12x3", "4x3x10", "4x3x5x2", "2x3x5x2x2"};
  const int low = std::clamp(caps.min_rank, 2, 5);
  const int rank = std::clamp(4, low, std::clamp(caps.max_rank, low, 5));
  return problem::parse("shape=" + std::string(shapes[static_cast<std::size_t>(rank - 2)]) +
                        ",dtype=" + std::string(name_of(c.data_type)) +
                        ",layout=" + std::string(name_of(c.memory_layout)) +
                        ",mode=" + (training ? "train" : "eval") +
                        (pf == profile::pytorch ? "" : ",profile=" + std::string(name_of(pf))));
}

std::string repro_command(const repro_context& r, const std::string& item_name) {
  std::ostringstream out;
  out << "bnconform certify --kernel " << r.kernel_argument << " --level "
      << check::name_of(r.options->level) << " --seed " << r.options->seed;
  if (r.options->profile != "pytorch") out << " --profile " << r.options->profile;
  if (!r.options->shapes_file.empty()) out << " --shapes '" << r.options->shapes_file << "'";
  if (r.options->ranks > 0) out << " --ranks " << r.options->ranks;
  out << " --only '" << item_name << "'";
  return out.str();
}

item_outcome run_item(const kernel& k, const item& it, const repro_context& r,
                      const std::function<void()>& alive) {
  return timed(it, r, [&](item_outcome& o) {
    switch (it.kind) {
      case group::coverage: run_coverage(k, it, *r.options, o); break;
      case group::malformed: run_malformed_item(k, it, *r.options, o); break;
      case group::views: run_views_item(k, it, *r.options, o); break;
      case group::degenerate: run_degenerate_item(k, it, *r.options, o); break;
      case group::reproducibility: run_reproducibility_item(it, r, o); break;
      case group::golden: run_golden_item(k, it, *r.options, o); break;
      case group::gradient: run_gradient_item(k, it, *r.options, o); break;
      case group::realistic: run_realistic_item(k, it, *r.options, o, alive); break;
      case group::distributed: run_distributed_item(k, it, r, o, alive); break;
      case group::properties: report_error("a property round is not a fixed item");
    }
  });
}

item_outcome run_round(const kernel& k, std::int64_t round, const repro_context& r,
                       const std::function<void(const std::string&)>& on_case) {
  const item it{group::properties, round_name(round), ""};
  return timed(it, r, [&](item_outcome& o) {
    const auto id =
        properties::all_properties()[static_cast<std::size_t>(round % property_count())];
    const bool backward = properties::needs_of(id).backward;
    properties::run_options opt;
    opt.level = r.options->level;
    opt.seed = round_seed(r.options->seed, round);
    opt.cases_per_property = r.options->cases_per_round;
    opt.properties = {id};
    opt.profile = profile_of(*r.options);
    opt.on_case = [&](properties::property_id, const generated_case& c) { on_case(c.repro()); };
    opt.on_case_result = [&](properties::property_id, const generated_case& c,
                             const properties::property_result& pr) {
      if (pr.result == properties::outcome::pass) {
        o.add(cell_of(c.p, backward), check::verdict::pass, pr.worst_ratio, pr.max_ulp,
              "case " + c.repro());
      } else if (pr.result == properties::outcome::fail) {
        o.add(cell_of(c.p, backward), check::verdict::fail, pr.worst_ratio, pr.max_ulp,
              "case " + c.repro());
      }
    };
    const properties::battery_report report = properties::run_properties(k, opt);
    const properties::property_report& p = report.properties.at(0);
    o.cases = p.passed;
    o.result = verdict_of(p.verdict);
    o.reason = p.reason;
    if (p.failure) {
      o.reason =
          "property " + std::string(properties::name_of(id)) + " fails on " + p.failure->repro;
      o.counterexample = p.failure->repro;
      std::istringstream lines(p.failure->detail);
      for (std::string line; std::getline(lines, line) && o.details.size() < 12;) {
        o.details.push_back(line);
      }
    }
  });
}

}  // namespace bnconform::certify
