#pragma once
// The degenerate catalog: every special case of
// docs/semantics.md#degenerate-and-special-inputs as a named, documented case with
// the rule its verdict must follow (docs/battery.md lists them).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check/compare.hpp"

namespace bnconform::battery {

enum class expected_rule {
  exact,      // the exact rules decide (NaN patterns, constant channels, counters...)
  budget,     // judged within the error budget
  error,      // the call is invalid: the kernel must reject it and change nothing
  ill_posed,  // eps == 0 with zero variance: not judged, nothing else may change
};
std::string_view name_of(expected_rule r);

struct call_data {
  tensor x, dy;
  module_state state;
};

struct degenerate_case {
  std::string_view name;
  std::string_view what;  // the rule of semantics.md it pins
  std::string_view problem_text;
  expected_rule rule;
  void (*fill)(const problem& p, call_data& d) = nullptr;  // inputs and module state
  bool backward = false;
  // One letter per call on the same module state: T training, E eval. Each call
  // is judged against the reference from the state the kernel left.
  std::string_view steps = "T";
  bool large = false;  // needs minutes and gigabytes: run only when asked
};

std::span<const degenerate_case> degenerate_catalog();

struct degenerate_result {
  std::string name;
  check::verdict result = check::verdict::pass;
  std::string reason;
  std::vector<check::comparison> calls;  // one per step
};

degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc,
                                 const check::options& opt);

// The catalog's cases hold in every profile (docs/semantics.md, "Profiles"): the
// case's problem in profile `pf` (that profile's eps and momentum where the case
// states none), and the rule it follows there (the m == 1 errors are no errors in
// the keras, tf-fused and flax profiles).
problem problem_in(const degenerate_case& dc, profile pf);
expected_rule rule_in(const degenerate_case& dc, profile pf);
degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc,
                                 const check::options& opt, profile pf);
inline degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc,
                                        check::level l) {
  check::options opt;
  opt.judged_at = l;
  return run_degenerate(k, dc, opt);
}

}  // namespace bnconform::battery
