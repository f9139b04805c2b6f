// The distributed group in one process: a thread group stands in for mpiexec, so
// the sharding, the rank worker, the judge, the kernels' distributed calls and the
// merge-defect mutants are checked without MPI (tests/distributed/mpi_test.cpp runs
// the same through real processes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/error.hpp"
#include "core/kernel.hpp"
#include "distributed/distributed_cases.hpp"
#include "distributed/judge.hpp"
#include "distributed/rank_worker.hpp"
#include "distributed/thread_group.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/mutants/model_kernel.hpp"
#include "reference/reference_kernel.hpp"
#include "tests/support/command.hpp"

namespace bnconform::distributed {
namespace {

using ::testing::HasSubstr;

TEST(Sharding, CutsAndJoinsADataTensorAlongN) {
  for (const char* l : {"channels_first", "channels_last"}) {
    const problem p = problem::parse(std::string("shape=6x3x5,dtype=f64,layout=") + l);
    const sharding s(p, {2, 0, 4});
    tensor all(dtype::f64, p.element_count());
    for (std::int64_t i = 0; i < all.size(); ++i) all.set(i, static_cast<double>(i));
    std::vector<tensor> parts;
    for (int r = 0; r < 3; ++r) {
      parts.push_back(s.slice(all, r));
      EXPECT_EQ(parts.back().size(), s.batch_of(r) * 15);
      EXPECT_EQ(s.problem_of(r).batch(), s.batch_of(r));
    }
    // Rank 2's first element is sample 2's first in memory: N is outermost in both layouts.
    EXPECT_EQ(parts[2].get(0), 30.0);
    EXPECT_TRUE(s.join(parts).bitwise_equal(all));
    EXPECT_EQ(s.rank_of_sample(1), 0);
    EXPECT_EQ(s.rank_of_sample(2), 2);
  }
}

TEST(Sharding, RejectsBatchesThatDoNotAddUpToN) {
  const problem p = problem::parse("shape=6x3");
  EXPECT_THROW(sharding(p, {2, 2}), error);
  EXPECT_THROW(sharding(p, {7, -1}), error);
  EXPECT_THROW(sharding(p, {}), error);
  EXPECT_THROW(sharding::parse_batches("3,,4"), error);
  EXPECT_THROW(sharding::parse_batches("3,-1"), error);
  EXPECT_EQ(sharding::parse_batches("3,0,4"), (std::vector<std::int64_t>{3, 0, 4}));
}

TEST(ThreadGroup, SumsInRankOrderAndGathersEveryRank) {
  thread_group g(3);
  std::vector<double> sums(3);
  std::vector<std::vector<std::int64_t>> gathered(3);
  g.run([&](const bnc_communicator& c) {
    // 1e16 + 1 + (-1e16): the order decides the bits; every rank gets rank order's.
    const double mine[] = {1e16, 1.0, -1e16};
    double v = mine[c.rank];
    ASSERT_EQ(c.all_reduce_sum(c.context, &v, 1, BNC_ELEMENT_F64), BNC_STATUS_OK);
    sums[static_cast<std::size_t>(c.rank)] = v;
    const std::int64_t n = 10 + c.rank;
    gathered[static_cast<std::size_t>(c.rank)].resize(3);
    ASSERT_EQ(c.all_gather(c.context, &n, gathered[static_cast<std::size_t>(c.rank)].data(), 1,
                           BNC_ELEMENT_I64),
              BNC_STATUS_OK);
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(sums[static_cast<std::size_t>(r)], (1e16 + 1.0) - 1e16);
    EXPECT_EQ(gathered[static_cast<std::size_t>(r)], (std::vector<std::int64_t>{10, 11, 12}));
  }
  g.fail_from(0);
  g.run([&](const bnc_communicator& c) {
    double v = 1;
    EXPECT_EQ(c.all_reduce_sum(c.context, &v, 1, BNC_ELEMENT_F64), BNC_STATUS_INTERNAL_ERROR);
  });
}

TEST(DistributedCall, ItsLineParsesBackToTheSameCall) {
  const distributed_call c{{problem::parse("shape=7x3x5,dtype=f16,layout=channels_last"),
                            properties::value_kind::large_offset, 0x1234},
                           {3, 0, 4},
                           "TBEb"};
  const distributed_call back = distributed_call::parse(c.line());
  EXPECT_EQ(back.line(), c.line());
  EXPECT_EQ(back.batches, c.batches);
  EXPECT_THROW(distributed_call::parse("steps=TX batches=7 " + c.values.repro()), error);
  EXPECT_THROW(distributed_call::parse("steps=T batches=3,3 " + c.values.repro()), error);
}

// Every job of a case on a thread group, every call judged: certify --ranks in one
// process. The failures, one line each, prefixed by the case name.
std::string failures_of(const kernel& k, const distributed_case& dc, check::level l) {
  std::string failures;
  check::options opt;
  opt.judged_at = l;
  opt.check_determinism = false;
  for (const distributed_job& job : dc.jobs) {
    const std::filesystem::path dir =
        bnconform::testing::scratch_directory("distributed_test", dc.name);
    thread_group g(job.ranks);
    g.run([&](const bnc_communicator& c) { run_rank(k, c, job.calls, dir.string()); });
    for (std::size_t i = 0; i < job.calls.size(); ++i) {
      const call_judgement j = judge_call(job.calls[i], static_cast<int>(i), dir.string(), opt);
      if (!j.missing.empty()) failures += dc.name + ": " + j.missing + "\n";
      for (const step_judgement& s : j.steps) {
        if (!s.comparison.passed()) failures += dc.name + ": " + s.comparison.reason + "\n";
      }
    }
  }
  return failures;
}

std::vector<distributed_case> cases_for(const kernel& k, int ranks, std::uint64_t seed = 7) {
  return distributed_cases(k.capabilities(), profile::pytorch, ranks, seed);
}

TEST(DistributedGroup, TheReferenceAndTheSyncModelPassEveryCaseAtStrict) {
  for (const bnc_kernel* d : {reference::reference_kernel(256), &mutants::sync_model().kernel}) {
    const kernel k(d);
    for (const distributed_case& dc : cases_for(k, 3)) {
      if (dc.name == "large-count") continue;  // the cpu kernel's test below runs it
      EXPECT_EQ(failures_of(k, dc, check::level::strict), "") << k.name() << " " << dc.name;
    }
  }
}

TEST(DistributedGroup, TheCpuKernelPassesEveryCaseAtStrict) {
  const kernel k(cpu::cpu_kernel());
  for (const auto& [ranks, seed] : {std::pair{3, 7}, std::pair{4, 1}}) {
    for (const distributed_case& dc : cases_for(k, ranks, static_cast<std::uint64_t>(seed))) {
      EXPECT_EQ(failures_of(k, dc, check::level::strict), "") << dc.name << " over " << ranks;
    }
  }
}

// The proof of power: each merge defect fails the case named in its expectation
// (or a case whose failure names it).
TEST(DistributedGroup, EachMergeDefectIsRejected) {
  int rejected = 0, models = 0;
  for (const mutants::model& mo : mutants::distributed_zoo()) {
    if (mo.bug == mutants::flaw::sync_rank_dies || mo.bug == mutants::flaw::sync_rank_hangs) {
      continue;  // processes, not values: mpi_test.cpp
    }
    ++models;
    const kernel k(&mo.kernel);
    std::string failures;
    for (const distributed_case& dc : cases_for(k, 3)) {
      failures += failures_of(k, dc, check::level::standard);
    }
    const std::string expected = std::string(mo.expectation).starts_with("distributed/")
                                     ? std::string(mo.expectation).substr(12) + ": "
                                     : std::string(mo.expectation);
    EXPECT_THAT(failures, HasSubstr(expected)) << mo.name << "\n" << failures;
    rejected += failures.find(expected) != std::string::npos;
  }
  std::printf("distributed: %d of %d merge defects rejected\n", rejected, models);
}

// A collective that fails (a rank left) makes every rank return INTERNAL_ERROR with
// nothing written: the harness's guards see every output untouched.
TEST(DistributedGroup, AFailedCollectiveLeavesEveryOutputUntouched) {
  const problem p = problem::parse("shape=6x3x5,dtype=f32");
  const sharding s(p, {2, 0, 4});
  for (const bnc_kernel* d :
       {cpu::cpu_kernel(), reference::reference_kernel(256), &mutants::sync_model().kernel}) {
    const kernel k(d);
    for (const int from : {0, 1}) {
      thread_group g(3);
      g.fail_from(from);
      std::atomic<int> clean{0};
      g.run([&](const bnc_communicator& c) {
        const problem mine = s.problem_of(c.rank);
        module_state state = module_state::initial(mine);
        const forward_outputs out =
            k.forward(mine, tensor(dtype::f32, mine.element_count()), state, nullptr, &c);
        EXPECT_EQ(out.status.code, BNC_STATUS_INTERNAL_ERROR) << k.name();
        EXPECT_TRUE(out.guards.empty()) << k.name() << ": " << describe(out.guards.front());
        EXPECT_EQ(state.num_batches_tracked, 0) << k.name();
        clean += out.status.code == BNC_STATUS_INTERNAL_ERROR && out.guards.empty();
      });
      EXPECT_EQ(clean.load(), 3) << k.name();
    }
  }
}

}  // namespace
}  // namespace bnconform::distributed
