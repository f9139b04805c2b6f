// The certifier survives kernels that misbehave, and says what they did: crashes
// and hangs end as verdicts naming the case, the guards' findings as failures, and
// libraries that cannot be loaded as "could not be loaded". The example kernel the
// faulty ones wrap is certified.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>
#include <string>

#include "certify/certifier.hpp"
#include "certify/report.hpp"
#include "cli/kernel_registry.hpp"

namespace bnconform::certify {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

kernel_source library(const std::string& path) {
  kernel_source k;
  k.argument = path;
  k.library_path = path;
  k.with_kernel = [path](const std::function<void(const kernel&)>& use) {
    const cli::loaded_kernel loaded = cli::load_kernel(path, 0);
    use(loaded.get());
  };
  return k;
}

settings quick() {
  settings s;
  s.level = check::level::strict;
  s.budget_seconds = 0;
  s.golden_directory = std::string(BNCONFORM_SOURCE_DIR) + "/golden/cases";
  s.shapes_file = std::string(BNCONFORM_SOURCE_DIR) + "/tests/certify/small_shapes.txt";
  return s;
}

certification run(const std::string& path, const settings& s) {
  std::ostringstream progress;
  return certify(library(path), s, "", progress);
}

// The first item that did not pass (nor was unsupported or unjudged).
const item_outcome* first_failure(const certification& c) {
  for (const item_outcome& o : c.items) {
    if (o.result == check::verdict::fail || o.result == check::verdict::crashed ||
        o.result == check::verdict::timed_out) {
      return &o;
    }
  }
  return nullptr;
}

TEST(CertifyFaulty, TheExampleKernelIsCertifiedAtStrict) {
  const certification c = run(BNCONFORM_EXAMPLE_KERNEL, quick());
  EXPECT_TRUE(c.certified) << summary_text(c);
  EXPECT_EQ(c.identity.sha256.size(), 64u);
  // It declares f32 only: the other dtypes are reported unsupported, never passed.
  for (const cell_summary& row : c.cells) {
    if (row.where.data_type != dtype::f32) {
      EXPECT_FALSE(row.declared) << to_string(row.where);
    }
  }
  EXPECT_THAT(summary_text(c), HasSubstr("forward-training   f64   channels_first  unsupported"));
}

// A crash is pinned on the item and case that caused it, and the run goes on.
void expect_crash(const char* path, const std::string& how) {
  settings s = quick();
  s.max_isolation_failures = 2;
  const certification c = run(path, s);
  EXPECT_FALSE(c.certified);
  EXPECT_TRUE(c.loaded) << c.load_error;
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr) << summary_text(c);
  EXPECT_EQ(f->result, check::verdict::crashed) << f->reason;
  // Under the sanitizers their runtime reports the bad store first and ends the
  // process itself: an abort (ASan's abort_on_error) or exit status 1 (UBSan).
  EXPECT_THAT(f->reason,
              AnyOf(HasSubstr(how), HasSubstr("SIGABRT"), HasSubstr("exited with status 1")));
  EXPECT_THAT(f->reason, HasSubstr("forward-training f32 channels_last"));
  EXPECT_THAT(f->repro, HasSubstr("--only '" + f->name + "'"));
  EXPECT_EQ(c.isolation_failures, 2);
  EXPECT_GT(c.not_run, 0);  // stopped after two deaths
  // Items after the first crash ran in a new child.
  int passed_after = 0;
  bool seen = false;
  for (const item_outcome& o : c.items) {
    seen = seen || &o == f;
    passed_after += seen && o.passed();
  }
  EXPECT_GT(passed_after, 0);
}

TEST(CertifyFaulty, ASegfaultIsACrashNamingTheCase) {
  expect_crash(BNCONFORM_FAULTY_SEGFAULT, "SIGSEGV");
}

TEST(CertifyFaulty, AnAbortIsACrashNamingTheCase) {
  expect_crash(BNCONFORM_FAULTY_ABORT, "SIGABRT");
}

TEST(CertifyFaulty, AHangTimesOut) {
  settings s = quick();
  s.case_timeout_seconds = 1;
  s.max_isolation_failures = 1;
  const certification c = run(BNCONFORM_FAULTY_HANG, s);
  EXPECT_FALSE(c.certified);
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->result, check::verdict::timed_out);
  EXPECT_THAT(f->reason, HasSubstr("timed out"));
  EXPECT_THAT(f->name, HasSubstr("forward-training f32 channels_last"));
}

void expect_failure(const char* path, const std::string& reason,
                    check::level level = check::level::strict) {
  settings s = quick();
  s.level = level;
  s.fail_fast = true;
  const certification c = run(path, s);
  EXPECT_FALSE(c.certified);
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr) << summary_text(c);
  EXPECT_EQ(f->result, check::verdict::fail);
  std::string text = f->reason;
  for (const std::string& d : f->details) text += "\n" + d;
  EXPECT_THAT(text, HasSubstr(reason));
  EXPECT_THAT(f->name, HasSubstr("channels_last"));
}

TEST(CertifyFaulty, AnOutOfBoundsWriteFails) {
  expect_failure(BNCONFORM_FAULTY_OUT_OF_BOUNDS, "out-of-bounds write in y");
}
TEST(CertifyFaulty, AnUnwrittenOutputFails) {
  expect_failure(BNCONFORM_FAULTY_UNWRITTEN, "unwritten output in y");
}
TEST(CertifyFaulty, AMutatedInputFails) {
  expect_failure(BNCONFORM_FAULTY_INPUT_MUTATING, "input modified in x");
}
TEST(CertifyFaulty, ANondeterministicKernelFails) {
  expect_failure(BNCONFORM_FAULTY_NONDETERMINISTIC, "nondeterministic");
}

// A kernel that leaves the floating-point environment changed fails the call at
// every level, with the clause named; the harness undoes the change.
TEST(CertifyFaulty, AChangedRoundingModeFailsAtEveryLevel) {
  for (const check::level l : {check::level::strict, check::level::standard}) {
    expect_failure(BNCONFORM_FAULTY_ROUNDING_MODE,
                   "guard: floating-point environment changed (clause fp_environment_kept): "
                   "rounding mode upward (was to-nearest)",
                   l);
  }
}
TEST(CertifyFaulty, FlushToZeroLeftSetFails) {
#if defined(__x86_64__)
  expect_failure(BNCONFORM_FAULTY_FLUSH_TO_ZERO, "FTZ (flush-to-zero, MXCSR bit 15) set");
#else
  expect_failure(BNCONFORM_FAULTY_FLUSH_TO_ZERO, "rounding mode toward-zero");
#endif
}

// A write far past the canary hits a guard page: a crash of the item that made it,
// named as an out-of-bounds write into that buffer.
TEST(CertifyFaulty, AWriteFarPastAnOutputIsNamed) {
  settings s = quick();
  s.max_isolation_failures = 1;
  const certification c = run(BNCONFORM_FAULTY_FAR_OUT_OF_BOUNDS, s);
  EXPECT_FALSE(c.certified);
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr) << summary_text(c);
  EXPECT_EQ(f->result, check::verdict::crashed) << f->reason;
  EXPECT_THAT(f->reason, HasSubstr("out-of-bounds write: y, 65536 bytes past its end: the "
                                   "kernel's process killed by signal 11"));
  EXPECT_THAT(f->reason, HasSubstr("forward-training f32 channels_last"));
  EXPECT_THAT(summary_text(c), HasSubstr("out-of-bounds write: y, 65536 bytes past its end"));
}

// A process the kernel starts and leaves running fails the item with its pid, and
// is gone when certify returns.
TEST(CertifyFaulty, AProcessLeftRunningFailsTheItemAndIsKilled) {
  settings s = quick();
  s.fail_fast = true;
  const certification c = run(BNCONFORM_FAULTY_LEAVES_PROCESS, s);
  EXPECT_FALSE(c.certified);
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr) << summary_text(c);
  EXPECT_EQ(f->result, check::verdict::fail);
  // Two: the item makes its call twice (the determinism check).
  EXPECT_THAT(f->reason, HasSubstr("the kernel left 2 processes running after its calls (pid "));
  EXPECT_THAT(f->reason, HasSubstr("clause no_process_left_running): the harness killed them"));
  EXPECT_THAT(f->name, HasSubstr("forward-training f32 channels_last"));
  EXPECT_THAT(summary_text(c), HasSubstr("no_process_left_running"));
  std::istringstream pids(f->reason.substr(f->reason.find("(pid ") + 5));
  for (long pid = 0; pids >> pid;) {
    EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0) << "pid " << pid << " is still there";
    if (pids.peek() != ',') break;
    pids.ignore(1);
  }
  EXPECT_LT(c.seconds, 30);  // no stall on the pipe the child held
}

// A kernel that closes the harness's descriptors is named, on the item that did it,
// without waiting for the case timeout.
TEST(CertifyFaulty, ClosedDescriptorsAreNamedOnTheItem) {
  settings s = quick();
  s.case_timeout_seconds = 60;
  s.max_isolation_failures = 1;
  const certification c = run(BNCONFORM_FAULTY_CLOSES_DESCRIPTORS, s);
  EXPECT_FALSE(c.certified);
  const item_outcome* f = first_failure(c);
  ASSERT_NE(f, nullptr) << summary_text(c);
  EXPECT_EQ(f->result, check::verdict::crashed) << f->reason;
  EXPECT_THAT(f->reason, HasSubstr("exited with status 71 (its report pipe to the harness was "
                                   "closed or replaced: the kernel closed a descriptor it does "
                                   "not own)"));
  EXPECT_THAT(f->reason, HasSubstr("forward-training f32 channels_last"));
  EXPECT_LT(c.seconds, 40);
}

// What a kernel prints is attached to the item that printed it, capped at 4 KiB,
// in the summary (under a failure), the certificate and junit.xml; printing alone
// fails nothing.
TEST(CertifyFaulty, WhatTheKernelPrintsIsAttachedToItsItemAndCapped) {
  settings s = quick();
  s.max_isolation_failures = 1;
  std::ostringstream progress;
  // A passing item: one line per forward call (the call and its determinism rerun).
  const certification quiet = certify(library(BNCONFORM_FAULTY_CHATTY), s,
                                      "coverage/forward-training f32 channels_first", progress);
  ASSERT_EQ(quiet.items.size(), 1u);
  const item_outcome& passed = quiet.items[0];
  EXPECT_TRUE(passed.passed()) << passed.reason;
  EXPECT_THAT(passed.output, HasSubstr("faulty-chatty: a forward call of 120 elements\n"));
  EXPECT_EQ(passed.output_dropped, 0);
  EXPECT_THAT(certificate_json(quiet, run_identity{}), HasSubstr("faulty-chatty: a forward call"));
  EXPECT_THAT(junit_xml(quiet), HasSubstr("<system-out>kernel output: "));
  EXPECT_THAT(progress.str(), Not(HasSubstr("faulty-chatty: a forward call")));

  // The trigger prints about 12 KB, then aborts: the crashed item keeps the first
  // 4 KiB and counts the rest.
  const certification loud = certify(library(BNCONFORM_FAULTY_CHATTY), s,
                                     "coverage/forward-training f32 channels_last", progress);
  ASSERT_EQ(loud.items.size(), 1u);
  const item_outcome& crashed = loud.items[0];
  EXPECT_EQ(crashed.result, check::verdict::crashed) << crashed.reason;
  ASSERT_EQ(crashed.output.size(), 4096u);
  EXPECT_EQ(crashed.output.rfind("faulty-chatty: line   1 of 200 on stdout", 0), 0u);
  // 200 lines of 59 bytes and the stderr line of 36, less the 4096 kept.
  EXPECT_EQ(crashed.output_dropped, 200 * 59 + 36 - 4096);
  const std::string summary = summary_text(loud);
  EXPECT_THAT(summary, HasSubstr("kernel output: 4096 bytes (7740 more dropped):\n"
                                 "      | faulty-chatty: line   1 of 200 on stdout"));
  const std::string certificate = certificate_json(loud, run_identity{});
  EXPECT_THAT(certificate, HasSubstr("\"dropped_bytes\": 7740"));
  EXPECT_THAT(junit_xml(loud), HasSubstr("<system-out>kernel output: 4096 bytes (7740 more "
                                         "dropped)\nfaulty-chatty: line   1 of 200"));
  EXPECT_THAT(progress.str(), Not(HasSubstr("on stdout, before the abort")));
}

// A declaration that leaves nothing to judge runs nothing, certifies nothing, and
// says why in the summary, the certificate and junit.xml.
void expect_nothing_to_judge(const char* path, const std::string& why) {
  settings s = quick();
  s.budget_seconds = 600;  // not spent: nothing runs
  const certification c = run(path, s);
  EXPECT_TRUE(c.loaded) << c.load_error;
  EXPECT_FALSE(c.certified);
  EXPECT_THAT(c.nothing_to_judge, HasSubstr(why));
  EXPECT_TRUE(c.items.empty());
  EXPECT_LT(c.seconds, 60);
  const std::string text = summary_text(c);
  EXPECT_THAT(text, HasSubstr("nothing certified: " + c.nothing_to_judge));
  EXPECT_THAT(text, HasSubstr("verdict: NOT CERTIFIED"));
  EXPECT_THAT(certificate_json(c, run_identity{}), HasSubstr("\"nothing_to_judge\": \""));
  EXPECT_THAT(junit_xml(c), HasSubstr("<failure message=\"nothing certified: "));
}

TEST(CertifyFaulty, NoOperationIsNothingCertified) {
  expect_nothing_to_judge(BNCONFORM_FAULTY_NO_OPERATION, "the kernel declares no operation");
}
TEST(CertifyFaulty, AnEmptyRankRangeIsNothingCertified) {
  expect_nothing_to_judge(BNCONFORM_FAULTY_EMPTY_RANK_RANGE,
                          "an empty rank range (min_rank 5 > max_rank 4)");
}
TEST(CertifyFaulty, DeviceMemoryWithoutADeviceIsNothingCertified) {
  expect_nothing_to_judge(BNCONFORM_FAULTY_DEVICE_MEMORY,
                          "declares device memory and no device is available");
}

void expect_unloadable(const char* path, const std::string& why) {
  const certification c = run(path, quick());
  EXPECT_FALSE(c.loaded);
  EXPECT_FALSE(c.certified);
  EXPECT_THAT(c.load_error, HasSubstr(why));
  EXPECT_THAT(summary_text(c), HasSubstr("could not be loaded"));
  EXPECT_THAT(certificate_json(c, run_identity{}), HasSubstr("\"load_error\""));
}

TEST(CertifyFaulty, LibrariesThatCannotBeLoadedAreNotCertified) {
  expect_unloadable(BNCONFORM_FAULTY_WRONG_ABI, "ABI version 99");
  expect_unloadable(BNCONFORM_FAULTY_MISSING_SYMBOL, "bnconform_kernel");
  expect_unloadable(BNCONFORM_FAULTY_NOT_A_LIBRARY, "cannot load");
}

// With several profiles, JUnit counts a row that could not load its kernel, or had
// nothing to judge, as a failing case: a CI reading the totals sees the failure.
TEST(CertifyFaulty, SeveralProfilesCountEveryRowThatRanNothingAsAFailure) {
  for (const char* path : {BNCONFORM_FAULTY_WRONG_ABI, BNCONFORM_FAULTY_NO_OPERATION}) {
    SCOPED_TRACE(path);
    std::ostringstream progress;
    const profiles_certification pc =
        certify_profiles(library(path), quick(), {"pytorch", "onnx"}, "", progress);
    EXPECT_FALSE(pc.certified);
    const std::string junit = junit_xml(pc);
    EXPECT_THAT(junit, Not(HasSubstr("failures=\"0\" skipped")));
    EXPECT_THAT(junit, HasSubstr("<failure message="));
  }
}

}  // namespace
}  // namespace bnconform::certify
