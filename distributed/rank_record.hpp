#pragma once
// What one rank wrote for one distributed call: for each step, what the kernel
// returned on this rank, twice (the step is run twice from the same state, for
// determinism). The rank writes it as a file of its own once the call is done
// (written whole, then renamed: a rank that dies leaves no half file); the judge
// reads every rank's.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bnconform::distributed {

struct step_record {
  call_status status;
  tensor data;               // y (forward) or dx (backward): this rank's shard
  tensor stats_a, stats_b;   // save_mean and save_invstd, or dgamma and dbeta
  module_state state_after;  // the module state after the step
  std::vector<guard_finding> guards;
  std::int64_t collectives = 0;  // collectives this rank entered during the call
};

struct rank_record {
  std::vector<std::array<step_record, 2>> steps;  // [step][run]
};

// "<directory>/call-<k>.rank-<r>.bin".
std::string record_path(const std::string& directory, int call, int rank);
// Throws bnconform::error when the file cannot be written.
void write_record(const std::string& path, const rank_record& r);
// Nothing when there is no such file; throws bnconform::error on a damaged one.
std::optional<rank_record> read_record(const std::string& path);

}  // namespace bnconform::distributed
