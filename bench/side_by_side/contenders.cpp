#include "contenders.hpp"

#include <omp.h>

#ifdef BNCONFORM_BENCH_HAVE_CPU
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/cpu/threading.hpp"
#endif
#ifdef BNCONFORM_BENCH_HAVE_ONEDNN
#include "impl/adapters/onednn/onednn_kernel.hpp"
#endif
#ifdef BNCONFORM_BENCH_HAVE_LIBTORCH
#include "impl/adapters/libtorch/libtorch_kernel.hpp"
#endif

namespace bnconform::bench {

std::vector<contender> built_contenders() {
  std::vector<contender> out;
#ifdef BNCONFORM_BENCH_HAVE_CPU
  out.push_back({"cpu", false, cpu::cpu_kernel(), cpu::cpu_kernel(),
                 std::string(cpu::variant_name()) + " variant"});
#endif
#ifdef BNCONFORM_BENCH_HAVE_ONEDNN
  out.push_back({"onednn", true, onednn::onednn_kernel(), onednn::onednn_kernel()});
#endif
#ifdef BNCONFORM_BENCH_HAVE_LIBTORCH
  // ATen 1.13 allocates its results; the adapter's copy into the caller's buffers
  // is not the peer's cost, so the timing variant leaves it out.
  out.push_back(
      {"libtorch", true, libtorch::libtorch_kernel(), libtorch::libtorch_timing_kernel()});
#endif
  return out;
}

void use_threads(int threads) {
  omp_set_num_threads(threads);
#ifdef BNCONFORM_BENCH_HAVE_CPU
  cpu::set_thread_count(threads);
#endif
}

}  // namespace bnconform::bench
