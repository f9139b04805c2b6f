#pragma once
// The battery runner: generates cases for each property with RapidCheck (from a
// seed, a bounded number of cases), shrinks the first failure, and reports per
// property the counts, the edge-case classes reached and the counterexample with
// its one-line repro. RapidCheck stays inside the library.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "properties.hpp"

namespace bnconform::properties {

struct generation_limits {
  // Most cases hold at most `usual_elements`; one in `large_one_in` up to `large_elements`.
  std::int64_t usual_elements = 2048;
  std::int64_t large_elements = 16384;
  int large_one_in = 50;
  // One case in `wide_one_in` has a channel count around a vector's or tile's width
  // (17 to 4096 channels, remainders after 8, 16, 32 and 64 lanes), within
  // `large_elements`; one in `long_one_in` has 1 to 3 channels of at least
  // `long_channel_values` values each, with spatial extents that are no multiple of
  // a vector's width. 0: never.
  int wide_one_in = 25;
  int long_one_in = 50;
  std::int64_t long_channel_values = 100000;
};

struct progress {
  property_id id;
  int cases_run = 0;  // generated and judged (discards included)
  int cases_target = 0;
};

struct run_options {
  check::level level = check::level::strict;
  std::uint64_t seed = 1;
  int cases_per_property = 100;
  std::vector<property_id> properties;  // empty: all
  // The profile of every generated case (momentum=None only in pytorch).
  bnconform::profile profile = bnconform::profile::pytorch;
  // Value kinds to generate (empty: every kind a property takes). A kernel whose
  // declared range is narrower (the 128-bit reference cannot vouch for inputs that
  // span more than 128 binary orders of magnitude) is run on fewer kinds.
  std::vector<value_kind> kinds;
  generation_limits limits;
  int reference_bits = 256;
  bool exact_fill_statistics = true;  // see property_options
  bool shrink = true;
  std::function<void(const progress&)> on_progress;  // may be empty
  // Called before each case is judged (shrinking steps included), so that a caller
  // running an untrusted kernel can name the case that crashed it; and after, with
  // the result. Either may be empty.
  std::function<void(property_id, const generated_case&)> on_case;
  std::function<void(property_id, const generated_case&, const property_result&)> on_case_result;
};

enum class property_verdict : std::uint8_t { passed, failed, unsupported, gave_up };
std::string_view name_of(property_verdict v);

struct counterexample {
  std::string repro;   // `problem=... kind=... seed=0x...` (parse_case reads it back)
  std::string detail;  // the failing judgement, values printed exactly
};

struct property_report {
  property_id id;
  property_verdict verdict = property_verdict::passed;
  std::string reason;                  // unsupported / gave-up reason
  int passed = 0;                      // cases that passed
  int not_applicable = 0;              // discarded: the case could not exercise the property
  double worst_ratio = 0;              // over passing cases
  std::map<std::string, int> classes;  // edge-case class -> cases (RC_CLASSIFY)
  std::optional<counterexample> failure;
  std::uint64_t seed = 0;  // RapidCheck's seed for this property
};

struct battery_report {
  std::vector<property_report> properties;
  bool passed() const;  // nothing failed (unsupported is not a failure, nor a pass)
  std::string describe() const;
};

battery_report run_properties(const kernel& k, const run_options& opt);

// The tags a case is classified under (kind, dtype, layout, mode, eps, momentum, size).
std::vector<std::string> classes_of(const generated_case& c);

}  // namespace bnconform::properties
