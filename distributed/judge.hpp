#pragma once
// Judges a distributed call from every rank's record: each training step's outputs
// joined over the ranks (y and dx are the ranks' shards end to end) are compared
// with the reference's answer for the whole batch through the error model, exactly
// as a single call on the global problem would be; an eval step, which
// communicates nothing, is each rank's own call on its own shard. Then the rules
// only a distributed call has: every rank returns the same status, in training the same saved
// statistics, dgamma and dbeta, and the same module state, bit for bit; an eval call enters no
// collective; each step gives the same bits twice.
#include <cstddef>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "distributed_call.hpp"

namespace bnconform::distributed {

struct step_judgement {
  problem global;  // the step's global problem
  bool backward = false;
  check::comparison comparison;  // its reason names the step and the ranks
};

struct call_judgement {
  // Empty when a rank wrote no record (`missing` says which).
  std::vector<step_judgement> steps;
  std::string missing;  // "rank 1 wrote no record", or empty
};

call_judgement judge_call(const distributed_call& call, int index, const std::string& directory,
                          const check::options& opt);

}  // namespace bnconform::distributed
