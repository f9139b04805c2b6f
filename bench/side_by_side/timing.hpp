#pragma once
// Times one kernel on one case through the ABI's function pointers, with buffers
// allocated and filled once: no harness work (NaN prefill, guards, copies) is timed.
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "cases.hpp"
#include "core/tensor.hpp"

namespace bnconform::bench {

// Every buffer of one case, allocated once and shared by the kernels timed on it.
struct case_buffers {
  explicit case_buffers(const bench_case& c);
  problem p;
  tensor x, y, dy, dx;
  tensor gamma, beta, running_mean, running_var, save_mean, save_invstd, dgamma, dbeta;
  std::int64_t num_batches_tracked = 0;
};

struct timing {
  bool ok = false;
  std::string error;  // why there is no time (status and message), when !ok
  double median_seconds = 0;
  int repetitions = 0;
};

struct timing_options {
  int warmup = 2;
  int min_repetitions = 5;
  double min_seconds = 0.25;  // keep repeating until this much time was measured
};

// One contender: `timed` is what is timed (it may be a timing-only variant that
// writes no results); `prepare` computes the saved statistics a backward call needs
// (a kernel whose results are written).
struct timed_kernel {
  const bnc_kernel* timed;
  const bnc_kernel* prepare;
};

// Times every kernel on one case, interleaved: after each kernel's warm-up, rounds
// of one call per kernel in turn, until each has opt.min_repetitions calls and
// opt.min_seconds measured. The result i belongs to kernels[i].
std::vector<timing> time_kernels(const std::vector<timed_kernel>& kernels, const bench_case& c,
                                 case_buffers& b, const timing_options& opt);

}  // namespace bnconform::bench
