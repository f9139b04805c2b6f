#pragma once
// SyncBatchNorm: a training call with a communicator (docs/abi.md, "Distributed
// calls"). Each rank sums its own shard per channel in double-double, the sums of
// every rank are gathered and added in rank order (the same bits on every rank),
// and each rank normalizes its own shard with the global statistics. Two passes
// over x in the forward (the mean, then the centred squares: no cancellation on
// offset data), one in the backward; the count is all-reduced as an integer.
// Scalar code: the distributed path is judged for its exactness, not raced.
#include <cstddef>

#include "call_plan.hpp"

namespace bnconform::cpu {

// After validate_forward / validate_backward accepted the call; `problem` is this
// rank's. Nothing is written when the global m rules the call out or a collective
// fails.
bnc_status distributed_forward(const bnc_problem* problem, const forward_plan& plan, char* message,
                               std::size_t size);
bnc_status distributed_backward(const bnc_problem* problem, const backward_plan& plan,
                                char* message, std::size_t size);

}  // namespace bnconform::cpu
