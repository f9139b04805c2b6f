#pragma once
// The kernels the benchmark puts side by side: the kernel under test (this
// project's CPU kernel unless --kernel names another) and the peers, each as far
// as it was built.
#include <memory>
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "core/kernel.hpp"

namespace bnconform::bench {

struct contender {
  std::string name;
  bool is_peer;
  const bnc_kernel* judged;  // writes every result: used for accuracy and preparation
  const bnc_kernel* timed;   // what is timed (libtorch: without the copy of its results)
  std::string detail = {};   // for the report's kernel list (cpu: the instruction-set variant)
  std::shared_ptr<const kernel> checked = {};  // the checked description: what it declares
  std::shared_ptr<const void> owner = {};      // keeps a loaded library open
};

// The kernel under test first, then the peers: oneDNN and libtorch where built,
// and this project's CPU kernel when the kernel under test is another one. A peer
// that is the kernel under test is left out; one that only shares its name (the
// CPU kernel's plugin from another build, raced against this build's) is named
// "NAME (built in)". `own` is "cpu", another
// built-in name of `bnconform --kernel`, or a path to a kernel library. Throws
// bnconform::error (one line) for an unknown name or a library that does not load.
std::vector<contender> contenders_for(const std::string& own);

// Why `c` cannot run the problem (empty when it can): what the kernel declares.
std::string unsupported_reason(const contender& c, const problem& p, bool backward);

// Sets every kernel's thread count: OpenMP's (oneDNN), the CPU kernel's own.
// libtorch's adapter fixes its own at 2 (at::set_num_threads).
void use_threads(int threads);

}  // namespace bnconform::bench
