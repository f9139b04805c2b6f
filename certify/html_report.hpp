#pragma once
// report.html: the certification for a person, in one self-contained file (inline
// CSS and SVG, no script, nothing fetched): the verdict and its reasons, the
// failures first with their repro lines, per profile the grid of cells coloured by
// verdict and worst budget ratio with each cell's ratio histogram and worst
// element, the groups, and the kernel's and machine's identity. docs/certify.md
// shows one.
#include <string>

#include "certifier.hpp"
#include "report.hpp"

namespace bnconform::certify {

// Marks a test (tests/certify/report_browser_test.cmake) reads back from the
// rendered page: the verdict element's data-verdict ("certified" or
// "not-certified", as the certificate's "verdict"), and one element with a
// data-cell attribute per cell of each implemented profile's grid.
std::string report_html(const profiles_certification& pc, const run_identity& run);

}  // namespace bnconform::certify
