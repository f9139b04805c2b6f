// The CPU kernel as a plugin: libbnconform_cpu_plugin.so loads through the same
// loader as any user's kernel and gives the same bits as the linked-in kernel.
#include <gtest/gtest.h>

#include "core/kernel_library.hpp"
#include "support.hpp"

#ifndef BNCONFORM_CPU_PLUGIN
#error "BNCONFORM_CPU_PLUGIN must name the cpu plugin"
#endif

namespace bnconform::testing {
namespace {

TEST(CpuPlugin, LoadsAndDeclaresItsCapabilities) {
  const kernel_library library(BNCONFORM_CPU_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "cpu");
  const bnc_capabilities& c = library.kernel().capabilities();
  EXPECT_EQ(c.keeps_module_state, 1);
  EXPECT_EQ(c.memory, BNC_MEMORY_HOST);
  EXPECT_EQ(c.operations, BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
                              BNC_OP_BACKWARD_EVAL);
  EXPECT_EQ(c.profiles, BNC_BIT(BNC_PROFILE_PYTORCH) | BNC_BIT(BNC_PROFILE_ONNX) |
                            BNC_BIT(BNC_PROFILE_KERAS) | BNC_BIT(BNC_PROFILE_TF_FUSED) |
                            BNC_BIT(BNC_PROFILE_FLAX));
}

TEST(CpuPlugin, MatchesTheLinkedInKernelBitwise) {
  const kernel_library library(BNCONFORM_CPU_PLUGIN);
  for (const char* spec : {"shape=3x2x5,momentum=none", "shape=4x3x2x2,dtype=f16,layout=cl",
                           "shape=2x2x3,dtype=f64,mode=eval,track=false"}) {
    const problem p = problem::parse(spec);
    random_source rng(3);
    const tensor x = random_data(rng, p, 1, 2);
    const tensor dy = random_data(rng, p, 0, 1);
    module_state a = random_state(rng, p), b = a;
    const forward_outputs fa = library.kernel().forward(p, x, a);
    const forward_outputs fb = cpu().forward(p, x, b);
    ASSERT_TRUE(fa.status.ok()) << fa.status.message;
    EXPECT_TRUE(fa.y.bitwise_equal(fb.y)) << spec;
    EXPECT_TRUE(a.running_mean.bitwise_equal(b.running_mean)) << spec;
    EXPECT_EQ(a.num_batches_tracked, b.num_batches_tracked);
    const backward_outputs ba =
        library.kernel().backward(p, x, dy, a, fa.save_mean, fa.save_invstd);
    const backward_outputs bb = cpu().backward(p, x, dy, b, fb.save_mean, fb.save_invstd);
    EXPECT_TRUE(ba.dx.bitwise_equal(bb.dx)) << spec;
    EXPECT_TRUE(ba.dgamma.bitwise_equal(bb.dgamma)) << spec;
  }
}

}  // namespace
}  // namespace bnconform::testing
