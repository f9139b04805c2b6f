#pragma once
// One rank of a distributed job: runs every call of the job on this rank's shard,
// each step twice from the same state (determinism), with the communicator the
// launcher bound (MPI, or a thread group in tests). It writes each call's
// rank_record when the call is done, and progress lines as it goes to
// <directory>/progress.rank-<r>: "call <k>", "collective <k> <j>" as it enters the
// j-th collective of call k, "done <k>". A judge that finds a job dead or hung
// reads them to say where each rank was.
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "distributed_call.hpp"

namespace bnconform::distributed {

std::string progress_path(const std::string& directory, int rank);

// Throws bnconform::error on a job that does not fit the communicator (its ranks)
// or on a directory it cannot write.
void run_rank(const kernel& k, const bnc_communicator& communicator,
              const std::vector<distributed_call>& calls, const std::string& directory);

}  // namespace bnconform::distributed
