#pragma once
// What a comparison of one kernel call with the reference says: the verdict, the
// worst budget ratio and where it occurred, the error figures, the first
// mismatches printed exactly, and the repro line of the problem.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/problem.hpp"
#include "level.hpp"

namespace bnconform::check {

struct comparison {
  verdict result = verdict::pass;
  std::string reason;  // one line: why this verdict
  level judged_at = level::strict;
  double worst_ratio = 0;                 // error / budget, worst over all judged elements
  std::string worst_output;               // "y", "dx", "running_var", ...
  std::vector<std::int64_t> worst_index;  // full index: (n, c, s1, ...) or (c)
  // The worst ratio of each output judged by its budget ("y", "save_mean", ...): 0
  // where every element is exact; outputs judged only by exact rules are absent.
  std::map<std::string, double> worst_ratio_by_output;
  double max_ulp = 0, max_abs = 0, max_rel = 0;
  std::int64_t elements_judged = 0;
  bool call_rejected = false;  // the call is invalid and the kernel rejected it as it must
  // Mistrusted because the reference's self-check cannot vouch at its precision: a
  // higher precision may judge the call (compare.hpp, with_enough_precision).
  bool reference_needs_more_bits = false;
  std::vector<std::string> first_mismatches;  // up to 10
  std::vector<std::string> notes;             // guard findings, ill-posed channels, ...
  // A command that reproduces the call; callers that generated the inputs from a
  // seed replace it with their own (e.g. adding --seed).
  std::string repro;

  bool passed() const { return result == verdict::pass || result == verdict::ill_posed; }
  // A multi-line report for a person (test output, certify's report).
  std::string describe() const;
};

// Where an element lies, for the report: an index given outright (a per-channel
// output's {c}), or a data tensor's memory index whose full index is formed only
// when a report needs it (judging millions of elements builds no index at all).
class element_at {
 public:
  element_at(std::initializer_list<std::int64_t> index) : given_(index) {}
  element_at(const problem& p, std::int64_t memory_index) : p_(&p), memory_index_(memory_index) {}
  std::vector<std::int64_t> index() const;

 private:
  const problem* p_ = nullptr;
  std::int64_t memory_index_ = 0;
  std::vector<std::int64_t> given_;
};

// Accumulates element-by-element judgements into a comparison.
class judge {
 public:
  judge(const problem& p, level l);
  judge(const judge&) = delete;  // it holds a pointer into its own comparison
  judge& operator=(const judge&) = delete;

  // A numeric output element: `expected` is the reference's value rounded to the
  // output's dtype and `residual` the rest of the exact value; `budget` the
  // element's error budget. `at` names the element in reports.
  // NaN and Inf must match exactly, with two exceptions (docs/error-model.md):
  // an infinity where the exact value is finite passes when the budget reaches
  // beyond the format's largest finite value on its side; and with
  // `any_nonfinite` (an infinite dy or parameter in the element's channel) an
  // element whose exact value is non-finite may be NaN or either infinity.
  void element(const char* output, dtype type, const element_at& at, double expected,
               double residual, double got, double budget, bool any_nonfinite = false);
  // An element that must match bit for bit (exact-fill statistics, constant channels).
  void exact(const char* output, dtype type, const element_at& at, double expected, double got,
             const std::string& why);
  // A failure that is not about one element (status, counter, guards, state).
  void fail(const std::string& reason);
  void note(const std::string& text);
  comparison finish(verdict when_clean);

  comparison& result() { return c_; }

 private:
  void mismatch(const std::string& text);
  double& ratio_of(const char* output);  // c_.worst_ratio_by_output's entry
  comparison c_;
  std::vector<std::string> failures_;
  const char* last_output_ = nullptr;
  double* last_ratio_ = nullptr;
};

// The full index of a memory index of a data tensor: (n, c, s1, ..., sk).
std::vector<std::int64_t> full_index(const problem& p, std::int64_t memory_index);
// A value printed exactly: shortest decimal and hex form.
std::string exact_text(double v, dtype t);
// Error of `got` against the exact value in ULPs of dtype t at the exact value.
double ulp_error(double exact, double got, dtype t);

}  // namespace bnconform::check
