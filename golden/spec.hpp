#pragma once
// Golden case specs: the human-written part of the catalog. A spec file holds one
// spec line per case family; braces expand it into cases (golden/README.md):
//
//   ops.train  shape={6x3,3x4x5},dtype={f64,f32}  uniform  pytorch  1  forward,backward
//
// gives ops.train.6x3.f64, ops.train.6x3.f32, ops.train.3x4x5.f64, ... with seeds
// 1, 2, 3, ... in that order.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bnconform::golden {

struct case_spec {
  std::string name;     // unique in the catalog; [A-Za-z0-9._+=@-] only
  std::string problem;  // a problem string (core/problem.hpp)
  std::string fill;     // how x (and dy) are drawn (fill.hpp)
  std::string state;    // the module state before the first step (fill.hpp)
  std::uint64_t seed = 0;
  std::vector<std::string> steps;  // "forward", "backward", "forward:eval", ...
  // The spec file: "FILE:LINE" as parsed, the file name alone once read from a
  // catalog directory (read_spec_directory) and in golden files.
  std::string origin;

  bool operator==(const case_spec& other) const;
};

// The steps as written in a spec line: comma-separated.
std::string steps_text(const case_spec& s);

// Parses spec-file text; `path` names it in messages ("PATH:LINE: WHAT").
// Throws bnconform::error at the first malformed line.
std::vector<case_spec> parse_spec_file(std::string_view text, const std::string& path);

// Every *.spec file of a directory, in file-name order; duplicate names are an error.
std::vector<case_spec> read_spec_directory(const std::string& directory);

// Whether a case name is selected by a filter: empty selects all; a filter with
// * ? or [ is a glob over the whole name, anything else a substring.
bool matches(std::string_view name, const std::string& filter);

}  // namespace bnconform::golden
