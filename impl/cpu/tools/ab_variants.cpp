// Times every instruction-set variant of the CPU kernel this machine can run on one
// problem, interleaved call by call in one process (so that a burst of load from
// elsewhere hits all of them alike), and prints each variant's median and minimum.
// Used while optimizing; the benchmark against the peers is bench/.
//   build/release/impl/cpu/ab_variants PROBLEM fwd|bwd [calls] [threads]
//   e.g. ab_variants shape=32x256x28x28,dtype=bf16,layout=channels_last fwd 40
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/cpu/variant.hpp"

namespace {

using namespace bnconform;

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ab_variants PROBLEM fwd|bwd [calls] [threads]\n");
    return 2;
  }
  const problem p = problem::parse(argv[1]);
  const std::string op = argv[2];
  const int calls = argc > 3 ? std::atoi(argv[3]) : 30;
  cpu::set_thread_count(argc > 4 ? std::atoi(argv[4]) : 2);
  if ((op != "fwd" && op != "bwd") || calls < 1) {
    std::fprintf(stderr, "ab_variants: the operation is fwd or bwd, calls at least 1\n");
    return 2;
  }
  tensor x(p.data_type(), p.element_count()), y(x), dy(x), dx(x);
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    x.set(i, static_cast<double>((static_cast<std::uint64_t>(i) * 2654435761u) % 1000u) / 100.0);
    dy.set(i, static_cast<double>((static_cast<std::uint64_t>(i) * 40503u) % 977u) / 500.0 - 1);
  }
  const std::int64_t c = p.channels();
  tensor gamma(p.stats_type(), c), beta(gamma), running_mean(gamma), running_var(gamma),
      save_mean(gamma), save_invstd(gamma), dgamma(gamma), dbeta(gamma);
  for (std::int64_t i = 0; i < c; ++i) {
    gamma.set(i, 1.5);
    beta.set(i, 0.5);
    running_mean.set(i, 1);
    running_var.set(i, 2);
  }
  std::int64_t count = 0;
  const bool batch = p.uses_batch_statistics();
  const bnc_problem d = p.to_abi();
  bnc_forward_args f{};
  f.struct_size = sizeof f;
  f.x = x.data();
  f.y = y.data();
  f.gamma = gamma.data();
  f.beta = beta.data();
  f.running_mean = running_mean.data();
  f.running_var = running_var.data();
  f.save_mean = batch ? save_mean.data() : nullptr;
  f.save_invstd = batch ? save_invstd.data() : nullptr;
  f.num_batches_tracked = &count;
  bnc_backward_args b{};
  b.struct_size = sizeof b;
  b.x = x.data();
  b.dy = dy.data();
  b.dx = dx.data();
  b.gamma = gamma.data();
  b.save_mean = batch ? save_mean.data() : nullptr;
  b.save_invstd = batch ? save_invstd.data() : nullptr;
  b.running_mean = batch ? nullptr : running_mean.data();
  b.running_var = batch ? nullptr : running_var.data();
  b.dgamma = dgamma.data();
  b.dbeta = dbeta.data();

  cpu::forward_plan fp;
  if (const cpu::rejection r = cpu::validate_forward(&d, &f, fp); !r.ok()) {
    std::fprintf(stderr, "ab_variants: forward rejected: %s\n", r.message.c_str());
    return 2;
  }
  cpu::backward_plan bp;
  if (const cpu::rejection r = cpu::validate_backward(&d, &b, bp); !r.ok()) {
    std::fprintf(stderr, "ab_variants: backward rejected: %s\n", r.message.c_str());
    return 2;
  }
  const std::vector<const cpu::variant*> variants = cpu::runnable_variants();
  variants.back()->forward(fp);  // the saved statistics for the backward
  std::vector<std::vector<double>> ms(variants.size());
  for (int k = 0; k < calls; ++k) {
    for (std::size_t v = 0; v < variants.size(); ++v) {
      const auto t0 = std::chrono::steady_clock::now();
      if (op == "bwd") {
        variants[v]->backward(bp);
      } else {
        variants[v]->forward(fp);
      }
      const auto t1 = std::chrono::steady_clock::now();
      ms[v].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  }
  std::printf("%s %s, %d calls, %d threads\n", p.to_string().c_str(), op.c_str(), calls,
              cpu::thread_count());
  for (std::size_t v = 0; v < variants.size(); ++v) {
    std::sort(ms[v].begin(), ms[v].end());
    std::printf("  %-10s median %.3f ms  min %.3f ms\n", variants[v]->name, ms[v][ms[v].size() / 2],
                ms[v].front());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ab_variants: %s\n", e.what());
    return 2;
  }
}
