// The libtorch adapter: the shared conformance suite (adapter_suite.cpp) and what
// is particular to ATen.
#include <gtest/gtest.h>

#include "adapter_suite.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/libtorch/libtorch_kernel.hpp"

namespace bnconform::testing {

namespace {

const char* known_failure(std::string_view key) {
  if (key.starts_with("subnormal x")) return "error model: no subnormal term in the budgets";
  // ATen computes y = x * (gamma invstd) + (beta - mean gamma invstd): on a constant
  // channel the two terms cancel only to rounding, so y != beta exactly.
  if (key == "constant channel, eps > 0 forward") return "ATen: fused affine form";
  // ATen 1.13's CPU backward takes its fast kernel only for contiguous and 4D
  // channels-last input; bf16 in NLC or NDHWC goes through the generic path, which
  // sums dgamma and dbeta in bf16.
  const bool generic_bf16 =
      key.find("layout=channels_last,dtype=bf16") != std::string_view::npos &&
      (key.starts_with("shape=3x4x5,") || key.starts_with("shape=2x3x2x3x2,"));
  if (generic_bf16 && key.ends_with(" backward")) return "ATen: bf16 sums in the generic path";
  // f64 data has no wider accumulator, and ATen's per-channel sums run along the
  // channel in a few vector lanes: on 16384 values offset by 1e4 the mean is
  // beyond even the standard budget (ratio 1.4 to 2.6).
  if (key.find("dtype=f64") != std::string_view::npos && key.ends_with(" forward offset"))
    return "ATen: sequential f64 sums on long offset channels";
  return nullptr;
}

}  // namespace

const adapter_description& adapter_under_test() {
  // ATen accumulates f32 and bf16 data in f64: strict. f64 data has no wider
  // accumulator: standard on ordinary data, and not even that on long offset
  // channels (a known failure below).
  static const adapter_description d{
      libtorch::libtorch_kernel(),
      [](dtype t) { return t == dtype::f64 ? check::level::standard : check::level::strict; },
      known_failure};
  return d;
}

namespace {

TEST(LibtorchAdapter, DeclaresWhatAtenImplements) {
  const bnc_capabilities& c = libtorch::libtorch_kernel()->capabilities;
  EXPECT_EQ(c.dtypes & BNC_BIT(BNC_DTYPE_F16), 0u) << "ATen 1.13 has no f16 CPU batch norm";
  EXPECT_NE(c.dtypes & BNC_BIT(BNC_DTYPE_F64), 0u);
  EXPECT_NE(c.dtypes & BNC_BIT(BNC_DTYPE_BF16), 0u);
  EXPECT_EQ(c.keeps_module_state, 0);
}

TEST(LibtorchAdapter, PluginExportsTheSameKernel) {
  const kernel_library library(BNCONFORM_LIBTORCH_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "libtorch");
}

}  // namespace
}  // namespace bnconform::testing
