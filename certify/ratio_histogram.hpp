#pragma once
// How close to its budget a kernel runs in one cell: the judged calls counted by
// their worst budget ratio (error / budget of the call's worst element), in
// log-spaced bins. Ten counters per cell, filled as each call is judged, so that
// the report can draw the distribution without keeping any call.
#include <array>
#include <cstddef>
#include <string>

namespace bnconform::certify {

// Bin 0: ratio 0 (every element exact); 1: below 1e-6; 2..6: the decades 1e-6 ..
// 0.1; 7: [0.1, 0.5); 8: [0.5, 1] (within budget, but close); 9: above 1 (over
// budget). The last decade is split because that is where a kernel's margin shows.
inline constexpr std::size_t ratio_bins = 10;

using ratio_histogram = std::array<int, ratio_bins>;

// The bin of a call's worst ratio; ratio_bins for NaN (no ratio: the call judged
// nothing with a budget), which no bin counts.
std::size_t ratio_bin(double ratio);
// "0", "<1e-6", "1e-6..1e-5", ..., "0.5..1", ">1".
std::string ratio_bin_label(std::size_t bin);
// Adds `ratio` to its bin (nothing for NaN).
void count_ratio(ratio_histogram& h, double ratio);
// Bin by bin sum.
void add_histogram(ratio_histogram& into, const ratio_histogram& from);

}  // namespace bnconform::certify
