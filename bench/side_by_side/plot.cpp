#include "plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "certify/html_figures.hpp"

namespace bnconform::bench {

namespace {

constexpr double axis_min = 0.25, axis_max = 4.0;
constexpr int label_width = 330, plot_width = 480, row_height = 14, top = 48, bottom = 36;

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

// A power of two on the axis: "1/4", "1/2", "1", "2", "4".
std::string tick_label(double g) {
  return g < 1 ? "1/" + std::to_string(std::lround(1 / g)) : std::to_string(std::lround(g));
}

// The x coordinate of a ratio on the log axis, clamped to the plot.
double x_of(double ratio) {
  const double clamped = std::clamp(ratio, axis_min, axis_max);
  const double f = std::log2(clamped / axis_min) / std::log2(axis_max / axis_min);
  return label_width + f * plot_width;
}

// SVG text is XML: the certificate's HTML escaping serves it.
std::string escaped(const std::string& s) { return certify::html_escaped(s); }

const char* colour_of(speed_verdict v) {
  switch (v) {
    case speed_verdict::faster: return "#1a7f37";
    case speed_verdict::tie: return "#6e7781";
    case speed_verdict::slower: return "#cf222e";
  }
  return "black";
}

}  // namespace

void write_plot_svg(std::ostream& out, const run_context& ctx,
                    const std::vector<contender>& kernels,
                    const std::vector<case_result>& results) {
  std::vector<const case_result*> rows;
  for (const case_result& r : results)
    if (r.vs_peer) rows.push_back(&r);
  const int width = label_width + plot_width + 20;
  const int height = top + static_cast<int>(rows.size()) * row_height + bottom;
  const std::string own = kernels.empty() ? "?" : kernels[0].name;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"10\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"10\" y=\"16\" font-size=\"12\">" << escaped(own)
      << " against the best peer: best peer's time / " << escaped(own)
      << "'s time (&gt; 1: " << escaped(own) << " faster), "
      << number(100 * ctx.bootstrap.confidence)
      << "% intervals; green faster, grey tie, red slower</text>\n"
      << "<text x=\"10\" y=\"30\" fill=\"#57606a\">" << escaped(ctx.date_utc) << ", "
      << escaped(ctx.machine) << "</text>\n";
  // Grid lines at the powers of two, the one at 1 in black.
  for (double g = axis_min; g <= axis_max * 1.0001; g *= 2) {
    const double x = x_of(g);
    out << "<line x1=\"" << number(x) << "\" y1=\"" << top - 6 << "\" x2=\"" << number(x)
        << "\" y2=\"" << height - bottom + 4 << "\" stroke=\"" << (g == 1.0 ? "black" : "#d0d7de")
        << "\"/>\n"
        << "<text x=\"" << number(x) << "\" y=\"" << height - bottom + 16
        << "\" text-anchor=\"middle\">" << tick_label(g) << "</text>\n";
  }
  int y = top;
  for (const case_result* r : rows) {
    const speed_ratio& s = *r->vs_peer;
    const char* colour = colour_of(s.verdict);
    const double mid = y + row_height / 2.0;
    out << "<text x=\"" << label_width - 6 << "\" y=\"" << number(mid + 3.5)
        << "\" text-anchor=\"end\">" << escaped(r->c.label()) << " ("
        << name_of(regime_of(r->c, ctx.cache.bytes)) << ")</text>\n"
        << "<line x1=\"" << number(x_of(s.low)) << "\" y1=\"" << number(mid) << "\" x2=\""
        << number(x_of(s.high)) << "\" y2=\"" << number(mid) << "\" stroke=\"" << colour
        << "\" stroke-width=\"3\"/>\n"
        << "<circle cx=\"" << number(x_of(s.estimate)) << "\" cy=\"" << number(mid)
        << "\" r=\"3\" fill=\"" << colour << "\"><title>" << escaped(r->c.label()) << ": "
        << number(100 * s.estimate) << "% [" << number(100 * s.low) << "%, " << number(100 * s.high)
        << "%] " << name_of(s.verdict) << "</title></circle>\n";
    // An interval that leaves the axis ends in an arrow at the edge.
    if (s.high > axis_max || s.low < axis_min) {
      const bool right = s.high > axis_max;
      const double x = right ? x_of(axis_max) : x_of(axis_min);
      const double d = right ? 6 : -6;
      out << "<path d=\"M" << number(x) << " " << number(mid - 4) << " L" << number(x + d) << " "
          << number(mid) << " L" << number(x) << " " << number(mid + 4) << " Z\" fill=\"" << colour
          << "\"/>\n";
    }
    y += row_height;
  }
  out << "<text x=\"" << label_width + plot_width / 2 << "\" y=\"" << height - 6
      << "\" text-anchor=\"middle\">speed ratio (log scale)</text>\n</svg>\n";
}

}  // namespace bnconform::bench
