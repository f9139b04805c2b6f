#include "html_figures.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace bnconform::certify {

namespace {

struct rgb {
  double r, g, b;
};

std::string hex(const rgb& c) {
  char out[16];
  std::snprintf(out, sizeof out, "#%02x%02x%02x", static_cast<int>(std::lround(c.r)),
                static_cast<int>(std::lround(c.g)), static_cast<int>(std::lround(c.b)));
  return out;
}

rgb mix(const rgb& a, const rgb& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

constexpr rgb deep_green{26, 152, 80}, light_green{166, 217, 106}, yellow{254, 224, 139};
constexpr rgb failure_red{215, 48, 39}, amber{253, 174, 97}, grey{232, 232, 232};

// 0 at a ratio of 1e-4 or less, 1 at the budget (log scale).
double closeness(double ratio) {
  if (!(ratio > 0)) return 0;
  return std::clamp((std::log10(ratio) + 4.0) / 4.0, 0.0, 1.0);
}

// Deep green up to 1e-4, light green at 0.1, yellow at the budget: the last
// decade, where a correct kernel's margin is used up, gets a quarter of the scale.
rgb pass_colour(double ratio) {
  const double t = closeness(ratio);
  return t < 0.75 ? mix(deep_green, light_green, t / 0.75)
                  : mix(light_green, yellow, (t - 0.75) / 0.25);
}

// A bar's colour: the colour of a passing cell whose worst ratio lay in its bin,
// red for the bin over budget.
rgb bin_colour(std::size_t bin) {
  constexpr std::array<double, ratio_bins> middle{0,    1e-7, 3e-6, 3e-5, 3e-4,
                                                  3e-3, 3e-2, 0.3,  0.8,  2};
  return bin + 1 == ratio_bins ? failure_red : pass_colour(middle[bin]);
}

}  // namespace

std::string html_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n') {
          out += ' ';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string cell_verdict(const cell_summary& row) {
  if (!row.declared) return "unsupported";
  if (row.calls == 0) return "not judged";
  return std::string(check::name_of(row.result));
}

std::string cell_colour(const cell_summary& row) {
  if (!row.declared) return hex(grey);
  if (row.calls == 0) return hex(amber);
  if (check::is_failure(row.result)) return hex(failure_red);
  if (row.result == check::verdict::mistrusted) return hex(amber);
  return hex(pass_colour(row.worst_ratio));
}

bool dark_text_on(const cell_summary& row) {
  return !(row.declared && row.calls > 0 && check::is_failure(row.result));
}

std::string ratio_histogram_svg(const ratio_histogram& h, bool compact) {
  const int bar = compact ? 7 : 30, gap = compact ? 1 : 4;
  const int plot = compact ? 18 : 80;   // the tallest bar
  const int top = compact ? 0 : 14;     // room for the counts
  const int bottom = compact ? 0 : 30;  // room for the labels
  const int width = static_cast<int>(ratio_bins) * (bar + gap);
  const int height = top + plot + bottom;
  const int most = std::max(1, *std::max_element(h.begin(), h.end()));
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"" << (compact ? "spark" : "histogram")
      << "\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' '
      << height << "\" role=\"img\" aria-label=\"calls by worst budget ratio\">";
  if (!compact) {
    out << "<line x1=\"0\" y1=\"" << top + plot << "\" x2=\"" << width << "\" y2=\"" << top + plot
        << "\" stroke=\"#888\"/>";
  }
  for (std::size_t i = 0; i < ratio_bins; ++i) {
    const int x = static_cast<int>(i) * (bar + gap);
    // Non-empty bins show at least a sliver next to a tall one.
    const int tall =
        h[i] == 0
            ? 0
            : std::max(2, static_cast<int>(std::lround(static_cast<double>(plot) * h[i] / most)));
    out << "<rect x=\"" << x << "\" y=\"" << top + plot - tall << "\" width=\"" << bar
        << "\" height=\"" << tall << "\" fill=\""
        << hex(bin_colour(i))
        // An outline, so that a bar reads on a cell of its own colour.
        << "\" stroke=\"#000\" stroke-opacity=\"0.45\" stroke-width=\"" << (compact ? 0.8 : 1)
        << "\"><title>" << html_escaped(ratio_bin_label(i)) << ": " << h[i]
        << " call(s)</title></rect>";
    if (compact) continue;
    if (h[i] > 0) {
      out << "<text x=\"" << x + bar / 2 << "\" y=\"" << top + plot - tall - 3
          << "\" text-anchor=\"middle\" font-size=\"10\">" << h[i] << "</text>";
    }
    // Labels alternate between two lines so that neighbours do not overlap.
    out << "<text x=\"" << x + bar / 2 << "\" y=\"" << top + plot + (i % 2 == 0 ? 12 : 25)
        << "\" text-anchor=\"middle\" font-size=\"9\" fill=\"#444\">"
        << html_escaped(ratio_bin_label(i)) << "</text>";
  }
  out << "</svg>";
  return out.str();
}

}  // namespace bnconform::certify
