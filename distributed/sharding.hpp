#pragma once
// A global batch cut along N, one shard per rank, as SyncBatchNorm sees a batch:
// rank r holds the samples [first_of(r), first_of(r) + batch_of(r)). A data tensor
// dense in either layout keeps N outermost, so a shard is one contiguous run of
// the global tensor, and the global tensor is the ranks' tensors end to end.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bnconform::distributed {

class sharding {
 public:
  // Throws bnconform::error when a count is negative, the counts do not add up to
  // the global N, there is no rank, or the problem has views (shards are dense).
  sharding(problem global, std::vector<std::int64_t> batch_per_rank);

  const problem& global() const { return global_; }
  int ranks() const { return static_cast<int>(batches_.size()); }
  const std::vector<std::int64_t>& batches() const { return batches_; }
  std::int64_t batch_of(int rank) const;
  std::int64_t first_of(int rank) const;
  // The global problem with this rank's N.
  problem problem_of(int rank) const;
  // The rank that holds global sample n.
  int rank_of_sample(std::int64_t n) const;

  // A data tensor of the global problem cut to this rank's samples, and back.
  tensor slice(const tensor& global_data, int rank) const;
  tensor join(std::span<const tensor> per_rank) const;

  // "3,0,4": the N of each rank.
  std::string batches_text() const;
  // Throws bnconform::error naming the text when it is not such a list.
  static std::vector<std::int64_t> parse_batches(std::string_view text);

 private:
  problem global_;
  std::vector<std::int64_t> batches_;
  std::int64_t per_sample_ = 0;  // elements of one sample: C * S
};

}  // namespace bnconform::distributed
