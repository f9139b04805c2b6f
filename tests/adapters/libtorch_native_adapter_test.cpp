// The libtorch adapter through at::native_batch_norm: the shared conformance suite
// (adapter_suite.cpp). What is particular to ATen's numbers is in
// libtorch_adapter_test.cpp (both entry points compute through native_batch_norm).
#include <gtest/gtest.h>

#include "adapter_suite.hpp"
#include "cli/kernel_registry.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/libtorch/libtorch_kernel.hpp"
#include "libtorch_expectations.hpp"

namespace bnconform::testing {

const adapter_description& adapter_under_test() {
  static const adapter_description d{libtorch::libtorch_native_kernel(), libtorch_level,
                                     libtorch_known_failure<aten_entry::native>,
                                     libtorch_known_signal<aten_entry::native>,
                                     libtorch_unrepeatable<aten_entry::native>};
  return d;
}

BNCONFORM_INSTANTIATE_ADAPTER_SUITE(LibtorchNative);

namespace {

TEST(LibtorchNativeAdapter, TheCliKnowsItByName) {
  use_plugin_directory_of(BNCONFORM_LIBTORCH_NATIVE_PLUGIN);
  const cli::loaded_kernel k = cli::load_kernel("libtorch-native", 0);
  EXPECT_EQ(k.get().name(), "libtorch-native");
}

TEST(LibtorchNativeAdapter, PluginExportsTheSameKernel) {
  const kernel_library library(BNCONFORM_LIBTORCH_NATIVE_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "libtorch-native");
}

}  // namespace
}  // namespace bnconform::testing
