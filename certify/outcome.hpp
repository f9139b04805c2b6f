#pragma once
// What one item (or one property round) of a certification found: its verdict,
// figures per cell, the failure's reason, details and repro line. A child process
// sends it to the certifier as one line of JSON.
#include <cstdint>
#include <string>
#include <vector>

#include "cell.hpp"
#include "check/level.hpp"
#include "plan.hpp"
#include "ratio_histogram.hpp"

namespace bnconform::certify {

// The judged calls of an item that fell in one cell.
struct cell_figures {
  cell where;
  int calls = 0;
  int failed = 0;
  double worst_ratio = 0;
  double failed_worst_ratio = 0;  // over the failing calls only (certify/README.md, "Ratios")
  double max_ulp = 0;
  ratio_histogram ratios{};  // the calls by their worst ratio (ratio_histogram.hpp)
  // Where the worst ratio was seen: "y(1, 2, 0, 3) of shape=...", or the generated
  // case of a property; empty where nothing says.
  std::string worst_element{};
};

struct item_outcome {
  group kind = group::coverage;
  std::string name;
  check::verdict result = check::verdict::pass;
  std::string reason;                // one line
  std::string repro;                 // a command that reproduces a failure
  std::vector<std::string> details;  // first mismatches and notes
  std::vector<cell_figures> cells;
  int cases = 0;  // cases judged (calls, or property cases)
  double seconds = 0;
  // Not judged because of an error of the suite (a stale golden file, a broken
  // catalog): result is mistrusted, and certify refuses to certify around it.
  bool suite_error = false;
  // The generated case a property round failed or crashed on (its repro line,
  // properties::generated_case); empty otherwise.
  std::string counterexample;
  // What the kernel wrote to stdout and stderr during the item (since the previous
  // item of its worker): the first 4 KiB, and how many bytes past them were
  // dropped. Printing is no failure.
  std::string output;
  std::int64_t output_dropped = 0;

  bool passed() const {
    return result == check::verdict::pass || result == check::verdict::ill_posed;
  }
  bool failed() const { return check::is_failure(result); }
  // A call's figures added to its cell; `worst_element` says where its worst ratio was.
  void add(const cell& where, check::verdict v, double worst_ratio, double max_ulp,
           const std::string& worst_element = {});
};

// "kernel output: 4096 bytes (3200 more dropped)", empty when it printed nothing.
std::string output_heading(const item_outcome& o);
// The first `lines` lines of the output, each cut to `width` characters: the
// excerpt under a failure in the summary.
std::vector<std::string> output_excerpt(const item_outcome& o, std::size_t lines,
                                        std::size_t width);

std::string to_json_line(const item_outcome& o);
item_outcome outcome_from_json(const std::string& text);  // throws bnconform::error

}  // namespace bnconform::certify
