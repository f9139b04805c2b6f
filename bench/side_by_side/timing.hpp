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
  bool unsupported = false;       // the kernel does not declare the case (error says why)
  std::string error;              // why there is no time (status and message), when !ok
  double median_seconds = 0;      // over the rounds
  std::vector<double> per_round;  // seconds per call in each round (batch time / calls)
  // per_round cut into the passes that measured them (their sizes, in order).
  std::vector<std::size_t> rounds_per_pass;
  int calls_per_round = 0;
  // Sat out the later rounds: certainly slower than a peer that stayed (so its
  // rounds are fewer, and it is left out of the bootstrap).
  bool sat_out = false;
};

struct timing_options {
  int warmup = 2;
  int min_rounds = 20;
  double min_seconds = 0.25;    // keep going until each kernel has this much measured
  double round_seconds = 2e-3;  // a kernel's turn in a round lasts about this long
  // After this many rounds a peer whose fastest round is sit_out_factor times
  // slower than another peer's slowest round sits out the rest (see timed_kernel);
  // 0 or less: no peer sits out.
  int sit_out_after = 5;
  double sit_out_factor = 1.5;
};

// One contender: `timed` is what is timed (it may be a timing-only variant that
// writes no results); `prepare` computes the saved statistics a backward call needs
// (a kernel whose results are written). `unsupported`: why the kernel does not
// declare the case (empty when it does); such a kernel is not called.
// `peer_class`: -1 for the kernel under test, which never sits out; a peer (0, or
// 1 when it passed strict) may sit out once a peer of the same or a higher class is
// certainly faster, so the fastest peer and the fastest strict peer stay to the end.
struct timed_kernel {
  const bnc_kernel* timed;
  const bnc_kernel* prepare;
  std::string unsupported = {};
  int peer_class = -1;
};

// Times every kernel on one case in interleaved rounds. After each kernel's
// warm-up (whose last call sizes its turn: as many calls as fill
// opt.round_seconds), every round gives each kernel one turn, the order rotating
// from round to round, until there are opt.min_rounds rounds and each kernel has
// opt.min_seconds measured. Round r of every kernel ran back to back, so the
// rounds pair up for the bootstrap (confidence.hpp). The result i belongs to
// kernels[i]; a kernel that fails a call drops out with its error.
// Adds a later pass's rounds to `into` (both ok).
void add_pass(timing& into, const timing& pass);

std::vector<timing> time_kernels(const std::vector<timed_kernel>& kernels, const bench_case& c,
                                 case_buffers& b, const timing_options& opt);

}  // namespace bnconform::bench
