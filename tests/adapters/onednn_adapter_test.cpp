// The oneDNN adapter: the shared conformance suite (adapter_suite.cpp) and what is
// particular to oneDNN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "adapter_suite.hpp"
#include "cli/kernel_registry.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/onednn/onednn_kernel.hpp"

namespace bnconform::testing {

namespace {

// oneDNN does not reject one value per channel (the adapter's running variance,
// var * m / (m - 1), is then 0 / 0). Its ill-posed constant channel is pinned
// below, and passes as ill-posed.
// On an empty batch oneDNN writes no batch statistics; the adapter's running
// statistics (PyTorch's rule on oneDNN's mean and variance) blend in what it left
// unwritten: NaN.
const char* known_failure(std::string_view key) {
  if (key.starts_with("shape=1x3")) return "oneDNN: m == 1 is not rejected";
  for (const char* empty :
       {"shape=0x3x4,dtype=f32 forward", "shape=2x3x0,dtype=f32,layout=channels_last forward",
        "shape=0x3x2x2,dtype=f32,affine=false forward"}) {
    if (key == empty) return "oneDNN: no batch statistics of an empty batch";
  }
  return nullptr;
}

int known_signal(std::string_view) { return 0; }
bool unrepeatable(std::string_view) { return false; }

}  // namespace

// oneDNN 2.6 on f32 reaches standard: strict holds for 4D channels, but a 2D
// channel (strided over N) of 8192 values offset by 1e4 misses it (save_mean
// ratio 1.5). bf16 passes strict on every problem here (AdapterLevel).
const adapter_description& adapter_under_test() {
  static const adapter_description d{
      onednn::onednn_kernel(),
      [](dtype t) { return t == dtype::bf16 ? check::level::strict : check::level::standard; },
      known_failure, known_signal, unrepeatable};
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
