#pragma once
// The report's picture: per case, the kernel under test's speed ratio against the
// best peer with its interval, on a log scale around 1, as an SVG image.
#include <ostream>
#include <vector>

#include "report.hpp"

namespace bnconform::bench {

// One row per case with a ratio (cases without one are left out); the axis spans
// 1/4 to 4 and an interval beyond it ends in an arrow at the edge.
void write_plot_svg(std::ostream& out, const run_context& ctx,
                    const std::vector<contender>& kernels, const std::vector<case_result>& results);

}  // namespace bnconform::bench
