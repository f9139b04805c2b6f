// The oneDNN adapter in the channel-blocked format: the shared conformance suite
// (adapter_suite.cpp). What is particular to oneDNN's numbers is in
// onednn_adapter_test.cpp.
#include <gtest/gtest.h>

#include "adapter_suite.hpp"
#include "cli/kernel_registry.hpp"
#include "core/kernel_library.hpp"
#include "impl/adapters/onednn/onednn_kernel.hpp"
#include "onednn_expectations.hpp"

namespace bnconform::testing {

const adapter_description& adapter_under_test() {
  static const adapter_description d{onednn::onednn_blocked_kernel(), onednn_level,
                                     onednn_known_failure, onednn_known_signal,
                                     onednn_unrepeatable};
  return d;
}

BNCONFORM_INSTANTIATE_ADAPTER_SUITE(OnednnBlocked);

namespace {

TEST(OnednnBlockedAdapter, TheCliKnowsItByName) {
  use_plugin_directory_of(BNCONFORM_ONEDNN_BLOCKED_PLUGIN);
  const cli::loaded_kernel k = cli::load_kernel("onednn-blocked", 0);
  EXPECT_EQ(k.get().name(), "onednn-blocked");
}

TEST(OnednnBlockedAdapter, PluginExportsTheSameKernel) {
  const kernel_library library(BNCONFORM_ONEDNN_BLOCKED_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "onednn-blocked");
}

}  // namespace
}  // namespace bnconform::testing
