#include "sharding.hpp"

#include <charconv>
#include <cstring>
#include <numeric>

#include "core/error.hpp"

namespace bnconform::distributed {

sharding::sharding(problem global, std::vector<std::int64_t> batch_per_rank)
    : global_(std::move(global)), batches_(std::move(batch_per_rank)) {
  if (batches_.empty()) report_error("a sharding needs at least one rank");
  if (global_.has_views()) report_error("a sharded batch is dense: the problem has views");
  for (const std::int64_t n : batches_) {
    if (n < 0) report_error("rank batch " + std::to_string(n) + " is negative");
  }
  const std::int64_t total = std::accumulate(batches_.begin(), batches_.end(), std::int64_t{0});
  if (total != global_.batch()) {
    report_error("the ranks' batches " + batches_text() + " add up to " + std::to_string(total) +
                 ", not the global N " + std::to_string(global_.batch()));
  }
  per_sample_ = global_.channels() * global_.spatial_size();
}

std::int64_t sharding::batch_of(int rank) const {
  return batches_.at(static_cast<std::size_t>(rank));
}

std::int64_t sharding::first_of(int rank) const {
  return std::accumulate(batches_.begin(), batches_.begin() + rank, std::int64_t{0});
}

problem sharding::problem_of(int rank) const {
  std::vector<std::int64_t> shape(global_.shape().begin(), global_.shape().end());
  shape[0] = batch_of(rank);
  return global_.with_shape(std::move(shape));
}

int sharding::rank_of_sample(std::int64_t n) const {
  std::int64_t first = 0;
  for (int r = 0; r < ranks(); ++r) {
    first += batches_[static_cast<std::size_t>(r)];
    if (n < first) return r;
  }
  return ranks() - 1;
}

tensor sharding::slice(const tensor& global_data, int rank) const {
  tensor out(global_data.type(), batch_of(rank) * per_sample_);
  const std::size_t width = size_of(global_data.type());
  const auto offset = static_cast<std::size_t>(first_of(rank) * per_sample_) * width;
  if (out.byte_size() > 0)
    std::memcpy(out.data(), global_data.bytes().data() + offset, out.byte_size());
  return out;
}

tensor sharding::join(std::span<const tensor> per_rank) const {
  if (per_rank.size() != batches_.size()) report_error("join: one tensor per rank expected");
  const dtype t = per_rank.empty() ? global_.data_type() : per_rank[0].type();
  tensor out(t, global_.element_count());
  std::size_t at = 0;
  for (int r = 0; r < ranks(); ++r) {
    const tensor& part = per_rank[static_cast<std::size_t>(r)];
    if (part.type() != t || part.size() != batch_of(r) * per_sample_) {
      report_error("join: rank " + std::to_string(r) + "'s tensor does not fit its shard");
    }
    if (part.byte_size() > 0) std::memcpy(out.bytes().data() + at, part.data(), part.byte_size());
    at += part.byte_size();
  }
  return out;
}

std::string sharding::batches_text() const {
  std::string out;
  for (std::size_t r = 0; r < batches_.size(); ++r) {
    out += (r == 0 ? "" : ",") + std::to_string(batches_[r]);
  }
  return out;
}

std::vector<std::int64_t> sharding::parse_batches(std::string_view text) {
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string_view part = text.substr(start, end - start);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || v < 0) {
      report_error("batches: '" + std::string(text) +
                   "' is not a comma list of each rank's N (e.g. 3,0,4)");
    }
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

}  // namespace bnconform::distributed
