// The libtorch adapter through at::batch_norm's path: the shared conformance suite
// (adapter_suite.cpp) and what is particular to ATen.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapter_suite.hpp"
#include "cli/kernel_registry.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/libtorch/libtorch_kernel.hpp"
#include "libtorch_expectations.hpp"

namespace bnconform::testing {

const adapter_description& adapter_under_test() {
  static const adapter_description d{
      libtorch::libtorch_kernel(), libtorch_level, libtorch_known_failure<aten_entry::batch_norm>,
      libtorch_known_signal<aten_entry::batch_norm>, libtorch_unrepeatable<aten_entry::batch_norm>};
  return d;
}

BNCONFORM_INSTANTIATE_ADAPTER_SUITE(Libtorch);

namespace {

TEST(LibtorchAdapter, DeclaresWhatAtenImplements) {
  const bnc_capabilities& c = libtorch::libtorch_kernel()->capabilities;
  EXPECT_EQ(c.dtypes & BNC_BIT(BNC_DTYPE_F16), 0u) << "ATen 1.13 has no f16 CPU batch norm";
  EXPECT_NE(c.dtypes & BNC_BIT(BNC_DTYPE_F64), 0u);
  EXPECT_NE(c.dtypes & BNC_BIT(BNC_DTYPE_BF16), 0u);
  EXPECT_EQ(c.keeps_module_state, 0);
}

// Forward of a 4x3x2x2 problem whose channel 1 is constant 3 with eps == 0; returns
// the outputs (the ill-posed channel's values are the peer's own choice).
forward_outputs zero_eps_constant_channel(const kernel& k, layout l) {
  problem::fields f;
  f.shape = {4, 3, 2, 2};
  f.layout = l;
  f.eps = 0;
  const problem p(f);
  problem_inputs in = ordinary_inputs(p, 14);
  in.state.gamma = tensor::from_values(dtype::f32, std::vector<double>{1.5, 1.5, 1.5});
  in.state.beta = tensor::from_values(dtype::f32, std::vector<double>{0.25, 0.25, 0.25});
  for (std::int64_t n = 0; n < 4; ++n) {
    for (std::int64_t s = 0; s < 4; ++s) in.x.set(p.offset(n, 1, s), 3.0);
  }
  return k.forward(p, in.x, in.state);
}

TEST(LibtorchAdapter, ZeroEpsConstantChannelWithAnExactMeanGivesBeta) {
  // ATen sets invstd = 0 where var + eps == 0, so y = beta, in both layouts, when
  // its mean is exact (constant 3). semantics.md's "channels-last gives gamma +
  // beta" depends on the values: with constant 0.1 the channels-last kernel's
  // mean is inexact, var = d^2 > 0 and xhat = d * invstd (see README.md).
  const kernel k(libtorch::libtorch_kernel());
  for (layout l : {layout::channels_first, layout::channels_last}) {
    const forward_outputs out = zero_eps_constant_channel(k, l);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    const problem p =
        problem::parse(std::string("shape=4x3x2x2,eps=0,layout=") + std::string(name_of(l)));
    for (std::int64_t n = 0; n < 4; ++n) {
      for (std::int64_t s = 0; s < 4; ++s) {
        EXPECT_EQ(out.y.get(p.offset(n, 1, s)), 0.25) << name_of(l);
      }
    }
    EXPECT_EQ(out.save_mean.get(1), 3.0);
    EXPECT_EQ(out.save_invstd.get(1), 0.0) << name_of(l);
  }
}

TEST(LibtorchAdapter, TheCliKnowsItByName) {
  use_plugin_directory_of(BNCONFORM_LIBTORCH_PLUGIN);
  const cli::loaded_kernel k = cli::load_kernel("libtorch", 0);
  EXPECT_EQ(k.get().name(), "libtorch");
}

TEST(LibtorchAdapter, PluginExportsTheSameKernel) {
  const kernel_library library(BNCONFORM_LIBTORCH_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "libtorch");
}

}  // namespace
}  // namespace bnconform::testing
