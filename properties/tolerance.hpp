#pragma once
// Tools of the metamorphic properties: per-channel quantities estimated in double
// (for budgets only; the properties never use them as expected values), and an
// accumulator of "these two values agree within a tolerance" judgements.
#include <cstdint>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "core/kernel.hpp"
#include "reference/call.hpp"

namespace bnconform::properties::detail {

// The quantities reference::quantities returns, computed in double with
// compensated sums and two passes: relative errors near 1e-15, far below the
// budgets' own terms, and cheap enough for large cases. `dy` may be empty.
std::vector<reference::channel_quantities> estimate(const problem& p, const tensor& x,
                                                    const tensor& dy, const module_state& state);

// Channels a correct kernel may handle any way it likes (eps == 0 and zero variance).
bool ill_posed(const problem& p, const reference::channel_quantities& q);

class agreement {
 public:
  // a and b must agree: NaN with NaN, the same infinity, or |a - b| <= tolerance
  // (a tolerance that is not a number demands equality).
  void within(const std::string& what, double a, double b, double tolerance, dtype t);
  // a and b must be the same value (NaN with any NaN).
  void identical(const std::string& what, double a, double b, dtype t);
  void fail(const std::string& why);

  bool ok() const { return failures_ == 0; }
  double worst_ratio() const { return worst_; }
  std::string detail() const;

 private:
  int failures_ = 0;
  double worst_ = 0;
  std::vector<std::string> lines_;
};

// Sums in double with Neumaier's compensation.
class compensated_sum {
 public:
  void add(double v);
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0, compensation_ = 0;
};

}  // namespace bnconform::properties::detail
