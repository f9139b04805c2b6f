#pragma once
// The kernels the benchmark puts side by side: this project's CPU kernel and the
// peers, each as far as it was built.
#include <string>
#include <vector>

#include "bnconform/kernel.h"

namespace bnconform::bench {

struct contender {
  std::string name;
  bool is_peer;
  const bnc_kernel* judged;  // writes every result: used for accuracy and preparation
  const bnc_kernel* timed;   // what is timed (libtorch: without the copy of its results)
  std::string detail = {};   // for the report's kernel list (cpu: the instruction-set variant)
};

std::vector<contender> built_contenders();

// Sets every kernel's thread count: OpenMP's (oneDNN), the CPU kernel's own.
// libtorch's adapter fixes its own at 2 (at::set_num_threads).
void use_threads(int threads);

}  // namespace bnconform::bench
