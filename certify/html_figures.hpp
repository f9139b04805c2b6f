#pragma once
// The pieces report.html is drawn with: text made safe for HTML, a cell's colour
// from its verdict and worst budget ratio, and the budget-ratio histogram as inline
// SVG (no script, no external file: the page works offline).
#include <string>
#include <string_view>

#include "certifier.hpp"
#include "ratio_histogram.hpp"

namespace bnconform::certify {

// `text` with & < > " ' as character references and control characters (but tab
// and newline) as spaces: safe in element content and in quoted attributes.
std::string html_escaped(std::string_view text);

// The verdict a cell of the grid shows: "unsupported", "not judged", or the
// verdict of its calls ("pass", "fail", "crashed", ...).
std::string cell_verdict(const cell_summary& row);
// Its background: grey (unsupported), amber (not judged), red (a failure), and for
// a pass a green that turns yellow as the worst ratio nears 1 (log scale, 1e-4 ..
// 1): how close to the budget the kernel runs. "#rrggbb".
std::string cell_colour(const cell_summary& row);
// Whether text on that background reads better dark (light backgrounds) or white.
bool dark_text_on(const cell_summary& row);

// The histogram: one bar per bin of ratio_histogram.hpp, its count above it and
// the bin's label below. `compact`: a small sparkline for the grid, no text.
std::string ratio_histogram_svg(const ratio_histogram& h, bool compact);

}  // namespace bnconform::certify
