// The CUDA kernel and the cuDNN adapter on a device: against the reference on
// every conformance case, and the CUDA kernel bit for bit against its host
// emulation (the device code is built with --fmad=false). Without a device every
// test skips and says why.
#include <gtest/gtest.h>

#include "conformance.hpp"
#include "core/kernel_library.hpp"
#include "host_emulator.hpp"
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/cuda/device_call.hpp"
#include "impl/cuda/device_memory.hpp"
#ifdef BNCONFORM_HAVE_CUDNN
#include "impl/cuda/cudnn/cudnn_kernel.hpp"
#endif

namespace bnconform::cuda::testing {
namespace {

// One device for the whole test program (opening it is slow).
device_opening& device() {
  static device_opening d = open_device_with_reason();
  return d;
}

#define REQUIRE_DEVICE() \
  if (device().device == nullptr) GTEST_SKIP() << device().reason

// One test per data dtype, each over its conformance cases.
class cuda_device_test : public ::testing::TestWithParam<dtype> {
 protected:
  std::vector<conformance_case> cases() const {
    std::vector<conformance_case> out;
    for (const conformance_case& c : conformance_cases())
      if (c.p.data_type() == GetParam()) out.push_back(c);
    return out;
  }
};

TEST_P(cuda_device_test, cuda_kernel_agrees_with_the_reference) {
  REQUIRE_DEVICE();
  const kernel k(cuda_kernel(), device().device.get());
  for (const conformance_case& c : cases())
    EXPECT_EQ(run_against_reference(k, c), "") << c.name << ": " << c.p.to_string();
}

TEST_P(cuda_device_test, cuda_kernel_equals_its_host_emulation_bit_for_bit) {
  REQUIRE_DEVICE();
  set_emulated_target_blocks(device_target_blocks());
  const kernel k(cuda_kernel(), device().device.get());
  const kernel emulated(emulated_kernel());
  for (const conformance_case& c : cases())
    EXPECT_EQ(run_bitwise(k, emulated, c), "") << c.name << ": " << c.p.to_string();
}

#ifdef BNCONFORM_HAVE_CUDNN
TEST_P(cuda_device_test, cudnn_agrees_with_the_reference_where_declared) {
  REQUIRE_DEVICE();
  const kernel k(bnconform::cudnn::cudnn_kernel(), device().device.get());
  int ran = 0;
  for (conformance_case c : cases()) {
    if (!k.unsupported_reason(c.p, false).empty()) continue;
    c.backward = k.unsupported_reason(c.p, true).empty();
    ++ran;
    EXPECT_EQ(run_against_reference(k, c), "") << c.name << ": " << c.p.to_string();
  }
  if (ran == 0) GTEST_SKIP() << "cuDNN declares no " << name_of(GetParam()) << " support";
}
#endif

std::string dtype_name(const ::testing::TestParamInfo<dtype>& param) {
  return std::string(name_of(param.param));
}

INSTANTIATE_TEST_SUITE_P(dtypes, cuda_device_test,
                         ::testing::Values(dtype::f64, dtype::f32, dtype::f16, dtype::bf16),
                         dtype_name);

TEST(cuda_device, plugin_loads_and_declares_device_memory) {
  // Needs no device: the description is static.
  const kernel_library library(BNCONFORM_CUDA_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "cuda");
  EXPECT_EQ(library.kernel().capabilities().memory, BNC_MEMORY_DEVICE);
}

TEST(cuda_device, without_a_device_the_harness_reports_unsupported) {
  const kernel k(cuda_kernel());
  problem::fields f;
  f.shape = {4, 2};
  EXPECT_NE(k.unsupported_reason(problem(f), false).find("no device"), std::string::npos);
}

}  // namespace
}  // namespace bnconform::cuda::testing
