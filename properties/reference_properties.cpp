// Agreement with the reference: check::run_forward and check::run_backward on a
// generated case.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {

// ---- agreement with the reference ------------------------------------------------

property_result from_comparison(const check::comparison& c) {
  property_result r;
  r.worst_ratio = c.worst_ratio;
  r.max_ulp = c.max_ulp;
  switch (c.result) {
    case check::verdict::pass:
    case check::verdict::ill_posed: return r;
    case check::verdict::unsupported: return make(outcome::unsupported, c.reason);
    case check::verdict::mistrusted: return make(outcome::not_applicable, c.reason);
    default: break;
  }
  r.result = outcome::fail;
  r.detail = c.describe();
  return r;
}

check::options compare_options(const generated_case& c, const property_options& opt) {
  check::options o;
  o.judged_at = opt.level;
  o.reference_bits = opt.reference_bits;
  o.exact_statistics = opt.exact_fill_statistics && c.kind == value_kind::exact_fill;
  return o;
}

property_result forward_matches_reference(const kernel& k, const generated_case& c,
                                          const property_options& opt) {
  case_inputs in = make_inputs(c);
  in.state.num_batches_tracked = counter_of(c);
  return from_comparison(check::with_enough_precision(
      compare_options(c, opt),
      [&](const check::options& o) { return check::run_forward(k, c.p, in.x, in.state, o); }));
}

property_result backward_matches_reference(const kernel& k, const generated_case& c,
                                           const property_options& opt) {
  const case_inputs in = make_inputs(c);
  return from_comparison(
      check::with_enough_precision(compare_options(c, opt), [&](const check::options& o) {
        return check::run_backward(k, c.p, in.x, in.dy, in.state, o);
      }));
}

}  // namespace bnconform::properties::detail
