#include "contenders.hpp"

#include <omp.h>

#include "cli/kernel_registry.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/cpu/threading.hpp"
#ifdef BNCONFORM_BENCH_HAVE_ONEDNN
#include "impl/adapters/onednn/onednn_kernel.hpp"
#endif
#ifdef BNCONFORM_BENCH_HAVE_LIBTORCH
#include "impl/adapters/libtorch/libtorch_kernel.hpp"
#endif

namespace bnconform::bench {

namespace {

contender cpu_contender(bool is_peer) {
  return {"cpu",
          is_peer,
          cpu::cpu_kernel(),
          cpu::cpu_kernel(),
          std::string(cpu::variant_name()) + " variant",
          std::make_shared<kernel>(cpu::cpu_kernel())};
}

contender loaded_contender(const std::string& name) {
  auto loaded = std::make_shared<cli::loaded_kernel>(cli::load_kernel(name, 0));
  const bnc_kernel* description = loaded->get().description();
  return {description->name,
          false,
          description,
          description,
          name,
          std::shared_ptr<const kernel>(loaded, &loaded->get()),
          loaded};
}

}  // namespace

std::vector<contender> contenders_for(const std::string& own) {
  std::vector<contender> out;
  out.push_back(own == "cpu" ? cpu_contender(false) : loaded_contender(own));
  // A peer that is the kernel under test itself is left out; another kernel of the
  // same name (a library build of a built-in kernel: an old build against this
  // one) stays, named as the built-in one.
  const auto add_peer = [&](contender c) {
    if (c.timed == out.front().timed) return;
    if (c.name == out.front().name) c.name += " (built in)";
    out.push_back(std::move(c));
  };
#ifdef BNCONFORM_BENCH_HAVE_ONEDNN
  add_peer({"onednn",
            true,
            onednn::onednn_kernel(),
            onednn::onednn_kernel(),
            {},
            std::make_shared<kernel>(onednn::onednn_kernel())});
#endif
#ifdef BNCONFORM_BENCH_HAVE_LIBTORCH
  // ATen 1.13 allocates its results; the adapter's copy into the caller's buffers
  // is not the peer's cost, so the timing variant leaves it out.
  add_peer({"libtorch",
            true,
            libtorch::libtorch_kernel(),
            libtorch::libtorch_timing_kernel(),
            {},
            std::make_shared<kernel>(libtorch::libtorch_kernel())});
#endif
  add_peer(cpu_contender(true));
  return out;
}

std::string unsupported_reason(const contender& c, const problem& p, bool backward) {
  return c.checked->unsupported_reason(p, backward);
}

void use_threads(int threads) {
  omp_set_num_threads(threads);
  cpu::set_thread_count(threads);
}

}  // namespace bnconform::bench
