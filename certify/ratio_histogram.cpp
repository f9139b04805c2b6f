#include "ratio_histogram.hpp"

#include <array>
#include <cmath>
#include <string_view>

namespace bnconform::certify {

namespace {

// The lower edges of bins 2..8 (bin 1 is everything above 0 below the first; bin 9
// everything above 1).
constexpr std::array<double, 7> lower_edges{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5};

constexpr std::array<std::string_view, ratio_bins> labels{
    "0",          "<1e-6",     "1e-6..1e-5", "1e-5..1e-4", "1e-4..1e-3",
    "1e-3..0.01", "0.01..0.1", "0.1..0.5",   "0.5..1",     ">1"};

}  // namespace

std::size_t ratio_bin(double ratio) {
  if (std::isnan(ratio)) return ratio_bins;
  if (ratio <= 0) return 0;
  // A ratio of exactly 1 is within budget (error <= budget passes): bin 8.
  if (ratio > 1.0) return ratio_bins - 1;
  std::size_t bin = 1;
  for (std::size_t i = 0; i < lower_edges.size() && ratio >= lower_edges[i]; ++i) bin = i + 2;
  return bin;
}

std::string ratio_bin_label(std::size_t bin) {
  return bin < labels.size() ? std::string(labels[bin]) : std::string("no ratio");
}

void count_ratio(ratio_histogram& h, double ratio) {
  const std::size_t bin = ratio_bin(ratio);
  if (bin < h.size()) ++h[bin];
}

void add_histogram(ratio_histogram& into, const ratio_histogram& from) {
  for (std::size_t i = 0; i < into.size(); ++i) into[i] += from[i];
}

}  // namespace bnconform::certify
