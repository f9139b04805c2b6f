#pragma once
// One call sequence of a distributed case: a global batch cut over the ranks and
// run step by step, each rank calling the kernel on its own shard with a
// communicator. Its one-line form is the repro of a finding:
//
//   steps=TB batches=3,0,4 problem=shape=7x3x5,... kind=normal seed=0x...
//
// Steps: 'T' forward in training, 'E' forward in eval, 'B' backward in training,
// 'b' backward in eval. Step i reads batch i of the case's inputs
// (properties::make_inputs); the module state runs from batch 0's through the
// kernel's own updates, on every rank.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "properties/generated_case.hpp"
#include "sharding.hpp"

namespace bnconform::distributed {

enum class step_kind : char {
  forward_training = 'T',
  forward_eval = 'E',
  backward_training = 'B',
  backward_eval = 'b'
};
bool is_backward(step_kind s);
mode mode_of(step_kind s);
std::string_view name_of(step_kind s);  // "forward training", ...

struct distributed_call {
  properties::generated_case values;  // the global problem (its mode is the steps'), kind, seed
  std::vector<std::int64_t> batches;  // N of each rank
  std::string steps;                  // step_kind letters

  sharding shards() const { return sharding(values.p, batches); }
  int ranks() const { return static_cast<int>(batches.size()); }
  std::vector<step_kind> step_list() const;
  // The global problem of a step (the call's problem in the step's mode).
  problem step_problem(std::size_t step) const;
  // The step's global inputs: x and dy of batch `step` (only step 0's state is
  // used: it is the module's state before the first step).
  properties::case_inputs step_inputs(std::size_t step) const;

  std::string line() const;
  // Throws bnconform::error naming what is wrong in the line.
  static distributed_call parse(std::string_view line);
};

// A job file: one call per line, for the ranks to run in order.
void write_job(const std::string& path, const std::vector<distributed_call>& calls);
std::vector<distributed_call> read_job(const std::string& path);

}  // namespace bnconform::distributed
