#include "runner.hpp"

#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_map>

#include "case_generator.hpp"

namespace bnconform::properties {

// RapidCheck prints a counterexample with this: the repro line, which holds every
// value of the case (the tensors are a function of it).
void showValue(const generated_case& c, std::ostream& os) { os << c.repro(); }

namespace {

// Counts each case's classes and reports progress while RapidCheck runs.
class listener final : public rc::detail::TestListener {
 public:
  listener(property_report& report, const run_options& opt) : report_(report), opt_(opt) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    ++run_;
    if (d.result.type == rc::detail::CaseResult::Type::Discard) {
      ++report_.not_applicable;
    } else {
      // RapidCheck stringifies a tag as a quoted string literal.
      for (std::string tag : d.tags) {
        if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
          tag = tag.substr(1, tag.size() - 2);
        }
        ++report_.classes[tag];
      }
    }
    if (opt_.on_progress) opt_.on_progress({report_.id, run_, opt_.cases_per_property});
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  property_report& report_;
  const run_options& opt_;
  int run_ = 0;
};

// A per-property seed, so that adding a property does not change the others' cases.
std::uint64_t property_seed(std::uint64_t seed, property_id id) {
  random_source mix(seed ^ (0x9e3779b97f4a7c15ull * (static_cast<std::uint64_t>(id) + 1)));
  return mix.next();
}

property_report run_one(const kernel& k, property_id id, const run_options& opt) {
  property_report report;
  report.id = id;
  report.seed = property_seed(opt.seed, id);
  if (const std::string why = unsupported_reason(id, k, opt.profile); !why.empty()) {
    report.verdict = property_verdict::unsupported;
    report.reason = why;
    return report;
  }
  case_needs needs = needs_of(id);
  if (!opt.kinds.empty()) {
    std::vector<value_kind> kinds;
    for (const value_kind kind : needs.kinds.empty() ? opt.kinds : needs.kinds) {
      if (std::find(opt.kinds.begin(), opt.kinds.end(), kind) != opt.kinds.end()) {
        kinds.push_back(kind);
      }
    }
    if (kinds.empty()) {
      report.verdict = property_verdict::unsupported;
      report.reason = "none of the requested value kinds fits this property";
      return report;
    }
    needs.kinds = kinds;
  }
  if (!declares_a_case(k, needs)) {
    report.verdict = property_verdict::unsupported;
    report.reason = no_declared_case;
    return report;
  }
  const rc::Gen<generated_case> gen = case_generator(k, needs, opt.limits, opt.profile);
  property_options popt;
  popt.level = opt.level;
  popt.reference_bits = opt.reference_bits;
  popt.exact_fill_statistics = opt.exact_fill_statistics;
  std::string last_detail;
  int unsupported_cases = 0;
  const auto property = [&] {
    const generated_case c = *gen;
    for (const std::string& tag : classes_of(c)) RC_TAG(tag);
    if (opt.on_case) opt.on_case(id, c);
    const property_result r = check_property(id, k, c, popt);
    if (opt.on_case_result) opt.on_case_result(id, c, r);
    switch (r.result) {
      case outcome::pass: report.worst_ratio = std::max(report.worst_ratio, r.worst_ratio); return;
      case outcome::not_applicable: RC_DISCARD(r.detail);
      case outcome::unsupported:
        // The generator only makes declared cases; a kernel that still refuses one
        // is reported, never counted as a pass.
        ++unsupported_cases;
        RC_DISCARD("unsupported: " + r.detail);
      case outcome::fail: last_detail = r.detail; RC_FAIL(r.detail);
    }
  };
  rc::detail::TestParams params;
  params.seed = report.seed;
  params.maxSuccess = opt.cases_per_property;
  params.maxSize = 100;
  params.maxDiscardRatio = 10;
  params.disableShrinking = !opt.shrink;
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(name_of(id));
  metadata.description = metadata.id;
  listener events(report, opt);
  // Every parameter comes from here and nothing to reproduce from the environment:
  // RapidCheck's global configuration (RC_PARAMS) is never loaded, so it never
  // prints its "Using configuration" line among a report's lines.
  const std::unordered_map<std::string, rc::detail::Reproduce> nothing_to_reproduce;
  const rc::detail::TestResult result =
      rc::detail::checkTestable(property, metadata, params, events, nothing_to_reproduce);
  rc::detail::SuccessResult success;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error error;
  if (result.match(success)) {
    report.passed = success.numSuccess;
  } else if (result.match(failure)) {
    report.passed = failure.numSuccess;
    report.verdict = property_verdict::failed;
    counterexample ce;
    for (const auto& [type, value] : failure.counterExample) ce.repro += value;
    // The shrunk case's own judgement (the last failing call is the shrunk one).
    ce.detail = last_detail.empty() ? failure.description : last_detail;
    if (ce.repro.empty()) ce.repro = "(no counterexample text)";
    report.failure = ce;
  } else if (result.match(gave_up)) {
    report.passed = gave_up.numSuccess;
    report.verdict =
        unsupported_cases > 0 ? property_verdict::unsupported : property_verdict::gave_up;
    report.reason = gave_up.description;
  } else if (result.match(error)) {
    report.verdict = property_verdict::failed;
    report.failure = counterexample{"", "RapidCheck error: " + error.description};
  }
  return report;
}

}  // namespace

std::string_view name_of(property_verdict v) {
  switch (v) {
    case property_verdict::passed: return "passed";
    case property_verdict::failed: return "FAILED";
    case property_verdict::unsupported: return "unsupported";
    case property_verdict::gave_up: return "gave-up";
  }
  return "unknown";
}

bool battery_report::passed() const {
  return std::none_of(properties.begin(), properties.end(), [](const property_report& r) {
    return r.verdict == property_verdict::failed || r.verdict == property_verdict::gave_up;
  });
}

std::string battery_report::describe() const {
  std::ostringstream os;
  for (const property_report& r : properties) {
    os << name_of(r.id) << ": " << name_of(r.verdict) << ", " << r.passed << " passed, "
       << r.not_applicable << " not applicable, worst ratio " << r.worst_ratio << " (seed 0x"
       << std::hex << r.seed << std::dec << ")";
    if (!r.reason.empty()) os << ": " << r.reason;
    os << "\n";
    if (r.failure) {
      os << "  counterexample: " << r.failure->repro << "\n  " << r.failure->detail << "\n";
    }
  }
  return os.str();
}

battery_report run_properties(const kernel& k, const run_options& opt) {
  battery_report out;
  const std::vector<property_id> ids =
      opt.properties.empty()
          ? std::vector<property_id>(all_properties().begin(), all_properties().end())
          : opt.properties;
  for (const property_id id : ids) out.properties.push_back(run_one(k, id, opt));
  return out;
}

std::vector<std::string> classes_of(const generated_case& c) {
  const problem& p = c.p;
  std::vector<std::string> tags{
      "kind:" + std::string(name_of(c.kind)), "dtype:" + std::string(name_of(p.data_type())),
      "layout:" + std::string(name_of(p.layout())), "mode:" + std::string(name_of(p.mode())),
      "rank:" + std::to_string(p.rank())};
  if (p.eps() == 0) tags.emplace_back("eps:0");
  if (p.eps() >= 1) tags.emplace_back("eps:large");
  if (!p.momentum())
    tags.emplace_back("momentum:none");
  else if (*p.momentum() == 0)
    tags.emplace_back("momentum:0");
  else if (*p.momentum() == 1)
    tags.emplace_back("momentum:1");
  if (!p.affine()) tags.emplace_back("affine:off");
  if (!p.track_running_stats()) tags.emplace_back("track:off");
  const std::int64_t m = p.reduction_size();
  if (p.element_count() == 0)
    tags.emplace_back("size:empty");
  else if (m == 1)
    tags.emplace_back("size:m=1");
  else if (p.element_count() > 4096)
    tags.emplace_back("size:large");
  return tags;
}

}  // namespace bnconform::properties
