// The oneDNN adapter: the shared conformance suite (adapter_suite.cpp) and what is
// particular to oneDNN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "adapter_suite.hpp"
#include "cli/kernel_registry.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/onednn/onednn_kernel.hpp"
#include "onednn_expectations.hpp"

namespace bnconform::testing {

const adapter_description& adapter_under_test() {
  static const adapter_description d{onednn::onednn_kernel(), onednn_level, onednn_known_failure,
                                     onednn_known_signal, onednn_unrepeatable};
  return d;
}

BNCONFORM_INSTANTIATE_ADAPTER_SUITE(Onednn);

namespace {

TEST(OnednnAdapter, DeclaresWhatOnednnImplements) {
  const bnc_capabilities& c = onednn::onednn_kernel()->capabilities;
  EXPECT_EQ(c.dtypes & BNC_BIT(BNC_DTYPE_F64), 0u) << "oneDNN has no f64 batch normalization";
  EXPECT_NE(c.dtypes & BNC_BIT(BNC_DTYPE_F32), 0u);
  EXPECT_EQ(c.max_rank, 5);
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

TEST(OnednnAdapter, ZeroEpsConstantChannelGivesNan) {
  // oneDNN computes (x - mean) / sqrt(0 + 0) = 0 * inf: NaN in that channel only,
  // in both layouts; the adapter's save_invstd is 1 / sqrt(0) = inf.
  const kernel k(onednn::onednn_kernel());
  for (layout l : {layout::channels_first, layout::channels_last}) {
    const forward_outputs out = zero_eps_constant_channel(k, l);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    const problem p =
        problem::parse(std::string("shape=4x3x2x2,eps=0,layout=") + std::string(name_of(l)));
    for (std::int64_t n = 0; n < 4; ++n) {
      EXPECT_TRUE(std::isnan(out.y.get(p.offset(n, 1, 0)))) << name_of(l);
      EXPECT_TRUE(std::isfinite(out.y.get(p.offset(n, 0, 0)))) << name_of(l);
      EXPECT_TRUE(std::isfinite(out.y.get(p.offset(n, 2, 3)))) << name_of(l);
    }
    EXPECT_EQ(out.save_mean.get(1), 3.0);
    EXPECT_EQ(out.save_invstd.get(1), std::numeric_limits<double>::infinity());
  }
}

TEST(OnednnAdapter, TheCliKnowsItByName) {
  use_plugin_directory_of(BNCONFORM_ONEDNN_PLUGIN);
  const cli::loaded_kernel k = cli::load_kernel("onednn", 0);
  EXPECT_EQ(k.get().name(), "onednn");
}

TEST(OnednnAdapter, PluginExportsTheSameKernel) {
  const kernel_library library(BNCONFORM_ONEDNN_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "onednn");
}

}  // namespace
}  // namespace bnconform::testing
