#include "ratio_text.hpp"

#include <cmath>
#include <sstream>

namespace bnconform::check {

bool ratio_explains(verdict v, double worst_ratio) { return !is_failure(v) || worst_ratio > 1; }

std::string ratio_text(verdict v, double worst_ratio, int digits) {
  if (!ratio_explains(v, worst_ratio)) return "n/a";
  if (std::isinf(worst_ratio)) return "inf";
  std::ostringstream out;
  out.precision(digits);
  out << worst_ratio;
  return out.str();
}

}  // namespace bnconform::check
