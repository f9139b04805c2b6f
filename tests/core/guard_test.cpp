// Tests of the harness guards (core/guarded_buffer, core/guard_pages, core/kernel):
// a kernel that wraps the reference and then misbehaves in one chosen way trips
// exactly the guard meant to catch it; the well-behaved wrapper trips none.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cfenv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "core/guard_pages.hpp"
#include "core/kernel.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

enum class misbehaviour {
  none,
  write_past_y,
  write_before_save_mean,
  skip_last_y,
  skip_dgamma,
  change_x,
  change_running_var_in_eval,
  change_dy,
  write_in_trailing_slack,
  write_far_past_y,
  write_far_before_save_mean,
  set_rounding_upward,
  set_flush_to_zero,
  set_rounding_in_backward,
};
misbehaviour g_mode = misbehaviour::none;

const bnc_kernel& inner() { return *reference::reference_kernel(128); }

std::size_t data_bytes(const bnc_problem* p) {
  std::size_t count = 1;
  for (std::int32_t i = 0; i < p->rank; ++i) count *= static_cast<std::size_t>(p->shape[i]);
  return count * (p->data_dtype == BNC_DTYPE_F64 ? 8 : 4);
}

bnc_status misbehaving_forward(void*, const bnc_problem* p, const bnc_forward_args* a, char* msg,
                               size_t size) {
  const bnc_status s = inner().forward(inner().context, p, a, msg, size);
  auto* y = static_cast<unsigned char*>(a->y);
  switch (g_mode) {
    case misbehaviour::write_past_y: y[data_bytes(p) + 3] = 0; break;
    case misbehaviour::write_before_save_mean: static_cast<float*>(a->save_mean)[-1] = 0; break;
    case misbehaviour::skip_last_y: {
      const std::uint32_t bits = 0x7fa5a5a5u;  // the sentinel: as if never written
      std::memcpy(y + data_bytes(p) - 4, &bits, 4);
      break;
    }
    case misbehaviour::change_x: const_cast<float*>(static_cast<const float*>(a->x))[2] += 1; break;
    case misbehaviour::change_running_var_in_eval:
      if (p->mode == BNC_MODE_EVAL) static_cast<float*>(a->running_var)[0] = 5;
      break;
    // 60 f32 values of y: 240 bytes; the page after them is the trailing canary.
    case misbehaviour::write_in_trailing_slack: y[data_bytes(p) + 1000] = 0; break;
    case misbehaviour::write_far_past_y:
      static_cast<volatile unsigned char*>(a->y)[data_bytes(p) + 65536] = 0;
      break;
    case misbehaviour::write_far_before_save_mean:
      static_cast<volatile float*>(a->save_mean)[-2048] = 0;
      break;
    case misbehaviour::set_rounding_upward: std::fesetround(FE_UPWARD); break;
#if defined(__x86_64__)
    case misbehaviour::set_flush_to_zero: _mm_setcsr(_mm_getcsr() | 0x8040u); break;
#endif
    default: break;
  }
  return s;
}

bnc_status misbehaving_backward(void*, const bnc_problem* p, const bnc_backward_args* a, char* msg,
                                size_t size) {
  // dgamma is written by the inner kernel; to leave it unwritten, hide it.
  bnc_backward_args copy = *a;
  std::vector<float> scratch(static_cast<std::size_t>(p->shape[1]));
  if (g_mode == misbehaviour::skip_dgamma) copy.dgamma = scratch.data();
  const bnc_status s = inner().backward(inner().context, p, &copy, msg, size);
  if (g_mode == misbehaviour::change_dy) {
    const_cast<float*>(static_cast<const float*>(a->dy))[0] = -1;
  }
  if (g_mode == misbehaviour::set_rounding_in_backward) std::fesetround(FE_TOWARDZERO);
  return s;
}

bnc_kernel misbehaving_kernel() {
  bnc_kernel k = inner();
  k.name = "misbehaving";
  k.forward = misbehaving_forward;
  k.backward = misbehaving_backward;
  return k;
}

struct run_result {
  forward_outputs forward;
  backward_outputs backward;
};

run_result run(misbehaviour mode, const char* problem_text) {
  g_mode = mode;
  const bnc_kernel description = misbehaving_kernel();
  const kernel k(&description);
  const problem p = problem::parse(problem_text);
  tensor x(p.data_type(), p.element_count());
  tensor dy(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    x.set(i, static_cast<double>((i * 7) % 5));
    dy.set(i, std::sin(static_cast<double>(i)));  // no exact cancellation in dgamma
  }
  module_state state = module_state::initial(p);
  run_result r;  // each call must succeed, or the unwritten-output guards are off

  r.forward = k.forward(p, x, state);
  r.backward = k.backward(p, x, dy, state, r.forward.save_mean, r.forward.save_invstd);
  if (p.reduction_size() > 1) {
    EXPECT_TRUE(r.forward.status.ok()) << r.forward.status.message;
    EXPECT_TRUE(r.backward.status.ok()) << r.backward.status.message;
  }
  g_mode = misbehaviour::none;
  return r;
}

constexpr const char* train = "shape=4x3x5,dtype=f32";
constexpr const char* eval = "shape=4x3x5,dtype=f32,mode=eval";

std::vector<guard_finding> all(const run_result& r) {
  std::vector<guard_finding> f = r.forward.guards;
  f.insert(f.end(), r.backward.guards.begin(), r.backward.guards.end());
  return f;
}

TEST(HarnessGuards, AWellBehavedKernelTripsNothing) {
  EXPECT_THAT(all(run(misbehaviour::none, train)), IsEmpty());
  EXPECT_THAT(all(run(misbehaviour::none, eval)), IsEmpty());
}

void expect_single(const std::vector<guard_finding>& f, guard_kind kind, const std::string& buffer,
                   const std::string& detail) {
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kind);
  EXPECT_EQ(f[0].buffer, buffer);
  EXPECT_THAT(f[0].detail, HasSubstr(detail));
}

TEST(HarnessGuards, CanariesCatchAWritePastTheEnd) {
  expect_single(all(run(misbehaviour::write_past_y, train)), guard_kind::out_of_bounds, "y",
                "after the buffer: 1 byte(s), first at offset 3");
}

TEST(HarnessGuards, CanariesCatchAWriteBeforeTheStart) {
  expect_single(all(run(misbehaviour::write_before_save_mean, train)), guard_kind::out_of_bounds,
                "save_mean", "before the buffer");
}

TEST(HarnessGuards, TheSentinelCatchesAnUnwrittenElement) {
  expect_single(all(run(misbehaviour::skip_last_y, train)), guard_kind::unwritten, "y",
                "1 of 60 element(s) never written, first at memory index 59");
}

TEST(HarnessGuards, TheSentinelCatchesAnUnwrittenParameterGradient) {
  expect_single(all(run(misbehaviour::skip_dgamma, train)), guard_kind::unwritten, "dgamma",
                "3 of 3");
}

TEST(HarnessGuards, ChecksumsCatchAChangedInput) {
  expect_single(all(run(misbehaviour::change_x, train)), guard_kind::input_modified, "x",
                "1 element(s) changed, first at memory index 2");
  expect_single(all(run(misbehaviour::change_dy, train)), guard_kind::input_modified, "dy",
                "first at memory index 0");
}

TEST(HarnessGuards, RunningStatisticsAreInputsInEval) {
  expect_single(all(run(misbehaviour::change_running_var_in_eval, eval)),
                guard_kind::input_modified, "running_var", "first at memory index 0");
  // ...and may change in training.
  EXPECT_THAT(all(run(misbehaviour::change_running_var_in_eval, train)), IsEmpty());
}

TEST(HarnessGuards, TheTrailingCanaryRunsToTheGuardPage) {
  expect_single(all(run(misbehaviour::write_in_trailing_slack, train)), guard_kind::out_of_bounds,
                "y", "after the buffer: 1 byte(s), first at offset 1000");
}

// A write far outside a host buffer faults in the guard pages, in the call that
// made it; with the fault reporter installed (certify's children) the process says
// which buffer before it dies. A death test: the child is forked.
TEST(HarnessGuardsDeathTest, AGuardPageNamesAWriteFarPastTheEnd) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        guard_pages::report_faults_to(STDERR_FILENO);
        run(misbehaviour::write_far_past_y, train);
      },
      ::testing::KilledBySignal(SIGSEGV), "fault out-of-bounds write: y, 65536 bytes past its end");
  EXPECT_EXIT(
      {
        guard_pages::report_faults_to(STDERR_FILENO);
        run(misbehaviour::write_far_before_save_mean, train);
      },
      ::testing::KilledBySignal(SIGSEGV),
      "fault out-of-bounds write: save_mean, 8192 bytes before its start");
}

TEST(HarnessGuards, GuardRegionsAreNamedOnlyWhileTheBufferLives) {
  const std::size_t bytes = 100;
  std::byte* start = guard_pages::map(bytes, "dx", 16, 16 + bytes);
  const std::size_t accessible = guard_pages::accessible_size(bytes);
  EXPECT_EQ(guard_pages::describe_fault(start + accessible + 10, true),
            "out-of-bounds write: dx, " + std::to_string(accessible + 10 - 16 - bytes) +
                " bytes past its end");
  EXPECT_EQ(guard_pages::describe_fault(start - 1, false),
            "out-of-bounds read: dx, 17 bytes before its start");
  EXPECT_EQ(guard_pages::describe_fault(start + 5, true), "");  // accessible: no fault there
  start[accessible - 1] = std::byte{1};                         // writable to the last byte
  guard_pages::unmap(start, bytes);
  EXPECT_EQ(guard_pages::describe_fault(start + accessible + 10, true), "");
}

// The kernel must return with the floating-point environment it was called with;
// the harness restores it and reports the change, forward and backward.
TEST(HarnessGuards, AChangedRoundingModeIsReportedAndUndone) {
  const run_result r = run(misbehaviour::set_rounding_upward, train);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
  ASSERT_FALSE(r.forward.guards.empty());
  EXPECT_EQ(r.forward.guards[0].kind, guard_kind::fp_environment);
  EXPECT_THAT(describe(r.forward.guards[0]),
              HasSubstr("guard: floating-point environment changed (clause fp_environment_kept): "
                        "rounding mode upward (was to-nearest)"));
  expect_single(run(misbehaviour::set_rounding_in_backward, train).backward.guards,
                guard_kind::fp_environment, "", "rounding mode toward-zero (was to-nearest)");
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

#if defined(__x86_64__)
TEST(HarnessGuards, FlushToZeroAndDenormalsAreZeroAreReportedAndUndone) {
  const unsigned before = _mm_getcsr();
  const run_result r = run(misbehaviour::set_flush_to_zero, train);
  EXPECT_EQ(_mm_getcsr() & 0x8040u, before & 0x8040u);
  ASSERT_FALSE(r.forward.guards.empty());
  EXPECT_EQ(r.forward.guards[0].kind, guard_kind::fp_environment);
  EXPECT_THAT(r.forward.guards[0].detail, HasSubstr("FTZ (flush-to-zero, MXCSR bit 15) set"));
  EXPECT_THAT(r.forward.guards[0].detail, HasSubstr("DAZ (denormals-are-zero, MXCSR bit 6) set"));
  // The comparison that follows runs in the restored environment: a subnormal
  // survives arithmetic.
  volatile float tiny = 1e-40f;
  EXPECT_NE(tiny * 1.0f, 0.0f);
}
#endif

TEST(HarnessGuards, UnwrittenOutputsAreNotFlaggedWhenTheCallFails) {
  // m == 1 in training is an error: nothing has to be written.
  EXPECT_THAT(all(run(misbehaviour::none, "shape=1x3,dtype=f32")), IsEmpty());
}

// A memory space that stands in for a device: host memory, but counted, so that a
// device-memory kernel is seen to get its buffers (and the guards) through it.
class counting_space final : public memory_space {
 public:
  std::string name() const override { return "fake-device"; }
  void* allocate(std::size_t bytes) override {
    ++allocations;
    return host_memory().allocate(bytes);
  }
  void release(void* p) noexcept override { host_memory().release(p); }
  void upload(void* d, const void* s, std::size_t n) override {
    ++uploads;
    host_memory().upload(d, s, n);
  }
  void download(void* d, const void* s, std::size_t n) override {
    ++downloads;
    host_memory().download(d, s, n);
  }
  void* stream() override { return this; }
  void synchronize() override { ++synchronizations; }
  int allocations = 0, uploads = 0, downloads = 0, synchronizations = 0;
};

void* g_stream_seen = nullptr;
bnc_status stream_recording_forward(void* c, const bnc_problem* p, const bnc_forward_args* a,
                                    char* msg, size_t size) {
  g_stream_seen = a->stream;
  return misbehaving_forward(c, p, a, msg, size);
}

TEST(HarnessGuards, DeviceKernelsGetTheirBuffersFromTheDeviceSpace) {
  bnc_kernel description = misbehaving_kernel();
  description.capabilities.memory = BNC_MEMORY_DEVICE;
  description.forward = stream_recording_forward;
  const problem p = problem::parse(train);
  EXPECT_THAT(kernel(&description).unsupported_reason(p, false), HasSubstr("no device"));

  counting_space device;
  const kernel k(&description, &device);
  EXPECT_EQ(k.unsupported_reason(p, false), "");
  g_mode = misbehaviour::write_past_y;
  module_state state = module_state::initial(p);
  const forward_outputs out = k.forward(p, tensor(p.data_type(), p.element_count()), state);
  g_mode = misbehaviour::none;
  // x, y, gamma, beta, running mean and var, save mean and invstd; each copied as its
  // leading canary, its contents and its trailing canary.
  EXPECT_EQ(device.allocations, 8);
  EXPECT_EQ(device.uploads, 3 * 8);
  EXPECT_EQ(device.downloads, 3 * 8);
  EXPECT_EQ(device.synchronizations, 1);
  EXPECT_EQ(g_stream_seen, &device);
  expect_single(out.guards, guard_kind::out_of_bounds, "y", "after the buffer");
}

}  // namespace
}  // namespace bnconform
