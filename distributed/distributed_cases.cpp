#include "distributed_cases.hpp"

#include <algorithm>
#include <numeric>

namespace bnconform::distributed {

namespace {

using properties::value_kind;

struct case_builder {
  const bnc_capabilities& caps;
  profile pf;
  std::uint64_t seed;

  // The kernel's declared data dtypes and layouts.
  std::vector<dtype> dtypes() const {
    std::vector<dtype> out;
    for (const dtype d : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      if ((caps.dtypes & BNC_BIT(static_cast<int>(to_abi(d)))) != 0) out.push_back(d);
    }
    return out;
  }
  std::vector<layout> layouts() const {
    std::vector<layout> out;
    if ((caps.layouts & BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST)) != 0)
      out.push_back(layout::channels_first);
    if ((caps.layouts & BNC_BIT(BNC_LAYOUT_CHANNELS_LAST)) != 0)
      out.push_back(layout::channels_last);
    return out;
  }
  // (N, C, S) at rank 3, padded with extents of 1 or cut to (N, C * S) to meet the
  // declared ranks.
  std::vector<std::int64_t> shape(std::int64_t n, std::int64_t c, std::int64_t s) const {
    const int rank =
        std::clamp(3, std::max(2, caps.min_rank), std::max(2, std::min(caps.max_rank, 8)));
    if (rank == 2) return {n, c * s};
    std::vector<std::int64_t> out{n, c, s};
    while (static_cast<int>(out.size()) < rank) out.push_back(1);
    return out;
  }
  problem make(std::vector<std::int64_t> shp, dtype d, layout l, bool momentum_none,
               double eps = 0) const {
    const problem defaults = problem::parse("shape=2x1,profile=" + std::string(name_of(pf)));
    problem::fields f;
    f.shape = std::move(shp);
    f.layout = l;
    f.data_type = d;
    f.profile = pf;
    f.eps = eps > 0 ? eps : defaults.eps();
    f.momentum = momentum_none && pf == profile::pytorch ? std::nullopt : defaults.momentum();
    return problem(std::move(f));
  }
  distributed_call call(problem p, std::vector<std::int64_t> batches, std::string steps,
                        value_kind kind, std::uint64_t salt) const {
    return distributed_call{{std::move(p), kind, seed ^ (salt * 0x9e3779b97f4a7c15ull)},
                            std::move(batches),
                            std::move(steps)};
  }
  // One call per declared dtype and layout, each with the batches' total N.
  std::vector<distributed_call> everywhere(const std::vector<std::int64_t>& batches, std::int64_t c,
                                           std::int64_t s, const std::string& steps,
                                           value_kind kind, bool momentum_none, std::uint64_t salt,
                                           double eps = 0) const {
    const std::int64_t n = std::accumulate(batches.begin(), batches.end(), std::int64_t{0});
    std::vector<distributed_call> out;
    for (const dtype d : dtypes()) {
      for (const layout l : layouts()) {
        out.push_back(call(make(shape(n, c, s), d, l, momentum_none, eps), batches, steps, kind,
                           salt + out.size()));
      }
    }
    return out;
  }
};

std::vector<std::int64_t> spread(std::int64_t n, int ranks) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(ranks), n / ranks);
  for (std::int64_t r = 0; r < n % ranks; ++r) ++out[static_cast<std::size_t>(r)];
  return out;
}

}  // namespace

std::vector<std::string> distributed_case_names() {
  return {"uneven-shards",    "empty-rank",         "global-m-1",  "local-m-1",
          "running-sequence", "variance-below-eps", "large-count", "rank-count-invariance"};
}

std::vector<distributed_case> distributed_cases(const bnc_capabilities& caps, profile pf, int ranks,
                                                std::uint64_t seed) {
  const case_builder b{caps, pf, seed};
  std::vector<distributed_case> out;
  const auto add = [&](std::string name, std::string why, std::vector<distributed_job> jobs,
                       std::string needs = {}) {
    out.push_back({std::move(name), std::move(why), std::move(jobs), std::move(needs)});
  };
  const auto one_job = [&](int r, std::vector<distributed_call> calls) {
    return std::vector<distributed_job>{{r, std::move(calls)}};
  };
  const auto join = [](std::vector<distributed_call> a, const std::vector<distributed_call>& more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  const std::string two_ranks = "needs at least 2 ranks (--ranks 2)";

  // Rank r holds r + 1 samples: weights a merge must respect. Training forward and
  // backward, then eval forward and backward, which must not communicate.
  std::vector<std::int64_t> uneven(static_cast<std::size_t>(ranks));
  std::iota(uneven.begin(), uneven.end(), std::int64_t{1});
  add("uneven-shards", "ranks with different batch sizes: means merged without their counts",
      one_job(ranks, join(b.everywhere(uneven, 3, 5, "TBEb", value_kind::normal, false, 1),
                          b.everywhere(uneven, 3, 5, "T", value_kind::large_offset, false, 2))));

  // Every other rank empty: it still joins every collective, with zero counts.
  std::vector<std::int64_t> holes(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) holes[static_cast<std::size_t>(r)] = r % 2 == 1 ? 0 : 2 + r;
  add("empty-rank", "ranks with no samples: their 0 / 0 statistics merged into the others'",
      ranks >= 2 ? one_job(ranks, b.everywhere(holes, 3, 5, "TB", value_kind::normal, false, 3))
                 : std::vector<distributed_job>{},
      two_ranks);

  // One value in the whole batch: invalid on every rank in pytorch (nothing
  // written anywhere), valid in the profiles that normalize one value.
  std::vector<std::int64_t> single(static_cast<std::size_t>(ranks), 0);
  single[0] = 1;
  add("global-m-1", "one value per channel over every rank: the unbiased variance is 0 / 0",
      one_job(ranks, b.everywhere(single, 3, 1, "TB", value_kind::normal, false, 4)));

  // One value on each rank, several in all: valid.
  add("local-m-1", "one value per channel on each rank and several in all: valid",
      ranks >= 2 ? one_job(ranks, b.everywhere(
                                      std::vector<std::int64_t>(static_cast<std::size_t>(ranks), 1),
                                      3, 1, "TB", value_kind::normal, false, 5))
                 : std::vector<distributed_job>{},
      two_ranks);

  // Running statistics over a sequence (momentum=None: the cumulative average),
  // then an eval step that reads them.
  add("running-sequence",
      "running statistics over several steps: the Bessel factor of the global count",
      one_job(ranks, b.everywhere(uneven, 3, 5, "TTTE", value_kind::normal, true, 6)));

  // eps = 1000, far above the variance, a constant channel among them, momentum=None:
  // the first step's running variance is the batch's. A variance rebuilt from
  // 1 / sqrt(var + eps) keeps almost nothing of it (and goes negative where it is 0).
  add("variance-below-eps",
      "eps far above the variance: a variance rebuilt from invstd loses it or goes negative",
      one_job(ranks,
              b.everywhere(uneven, 3, 5, "TT", value_kind::constant_channels, true, 7, 1000.0)));

  // More than 65504 values per channel on a rank: a count kept in f16 is Inf.
  {
    const int r = std::min(ranks, 2);
    std::vector<distributed_call> calls;
    const std::vector<dtype> declared = b.dtypes();
    for (const dtype d : {dtype::f32, dtype::f16}) {
      if (std::find(declared.begin(), declared.end(), d) == declared.end()) continue;
      calls.push_back(b.call(b.make(b.shape(r, 2, 65600), d, b.layouts().front(), false),
                             std::vector<std::int64_t>(static_cast<std::size_t>(r), 1), "T",
                             value_kind::normal, 8 + calls.size()));
    }
    if (calls.empty() && !declared.empty()) {
      calls.push_back(b.call(
          b.make(b.shape(r, 2, 65600), declared.front(), b.layouts().front(), false),
          std::vector<std::int64_t>(static_cast<std::size_t>(r), 1), "T", value_kind::normal, 8));
    }
    add("large-count", "65600 values per channel on a rank: a count kept in f16 overflows",
        one_job(r, std::move(calls)));
  }

  // The same batch of 8 samples over 1, 2, ..., ranks ranks: each judged against
  // the same global answer, so they agree within the budget.
  {
    std::vector<distributed_job> jobs;
    for (int r = 1; r <= ranks; ++r) {
      jobs.push_back({r, b.everywhere(spread(8, r), 3, 5, "TB", value_kind::normal, false, 9)});
    }
    add("rank-count-invariance", "the same global batch over 1 to R ranks", std::move(jobs));
  }
  return out;
}

}  // namespace bnconform::distributed
