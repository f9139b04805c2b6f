// The faulty kernels of tests/certify/faulty/: the ones a loader must refuse are
// refused with a clear bnconform::error; the ones whose fault is benign in-process
// (a write into the harness's canaries, an unwritten element, a changed input, a
// one-ulp difference between runs) fire exactly on their trigger, a channels-last
// training forward with C == 3, and the harness's guards catch them. The crashing
// and hanging kernels are only loaded here, never called: certify's own tests run
// them in child processes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cfenv>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ostream>
#include <string>

#include "check/compare.hpp"
#include "core/error.hpp"
#include "core/guard_pages.hpp"
#include "core/kernel_library.hpp"

namespace bnconform {
namespace {

std::string refusal(const std::string& path) {
  try {
    const kernel_library library(path);
  } catch (const error& e) {
    return e.what();
  }
  return "(loaded without an error)";
}

TEST(FaultyKernels, WrongAbiIsRefusedWithItsVersion) {
  const std::string why = refusal(BNCONFORM_FAULTY_WRONG_ABI);
  EXPECT_NE(why.find("ABI version 99." + std::to_string(BNC_ABI_VERSION_MINOR)), std::string::npos)
      << why;
  EXPECT_NE(why.find(BNCONFORM_FAULTY_WRONG_ABI), std::string::npos) << why;
}

TEST(FaultyKernels, MissingSymbolIsRefusedByName) {
  const std::string why = refusal(BNCONFORM_FAULTY_MISSING_SYMBOL);
  EXPECT_NE(why.find("does not export the kernel symbol bnconform_kernel"), std::string::npos)
      << why;
}

TEST(FaultyKernels, NotALibraryIsRefused) {
  const std::string why = refusal(BNCONFORM_FAULTY_NOT_A_LIBRARY);
  EXPECT_NE(why.find("cannot load kernel library"), std::string::npos) << why;
}

// One forward call judged at strict, determinism checked: 4x3x5x2 f32 training
// (the certifier's coverage shape) in the given layout, from PyTorch's initial
// module state.
check::comparison judged_forward(const std::string& path, const std::string& layout_name,
                                 const std::string& mode_name = "train") {
  const kernel_library library(path);
  const problem p = problem::parse("shape=4x3x5x2,layout=" + layout_name + ",mode=" + mode_name);
  tensor x(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    x.set(i, 0.5 + 1.5 * std::sin(0.7 * static_cast<double>(i)));
  }
  return check::run_forward(library.kernel(), p, x, module_state::initial(p), check::level::strict);
}

struct benign_fault {
  const char* name;
  const char* path;
  const char* caught_as;  // what the comparison says
};
void PrintTo(const benign_fault& f, std::ostream* out) { *out << f.name; }

class BenignFault : public ::testing::TestWithParam<benign_fault> {};

TEST_P(BenignFault, IsCaughtOnItsTrigger) {
  const check::comparison c = judged_forward(GetParam().path, "channels_last");
  EXPECT_EQ(c.result, check::verdict::fail) << c.describe();
  EXPECT_NE(c.describe().find(GetParam().caught_as), std::string::npos) << c.describe();
}

TEST_P(BenignFault, BehavesLikeTheExampleElsewhere) {
  const check::comparison first = judged_forward(GetParam().path, "channels_first");
  EXPECT_TRUE(first.passed()) << first.describe();
  const check::comparison eval = judged_forward(GetParam().path, "channels_last", "eval");
  EXPECT_TRUE(eval.passed()) << eval.describe();
}

INSTANTIATE_TEST_SUITE_P(
    FaultyKernels, BenignFault,
    ::testing::Values(
        benign_fault{"out_of_bounds", BNCONFORM_FAULTY_OUT_OF_BOUNDS, "out-of-bounds write in y"},
        benign_fault{"unwritten", BNCONFORM_FAULTY_UNWRITTEN, "unwritten output in y"},
        benign_fault{"input_mutating", BNCONFORM_FAULTY_INPUT_MUTATING, "input modified in x"},
        benign_fault{"nondeterministic", BNCONFORM_FAULTY_NONDETERMINISTIC,
                     "nondeterministic: y differs between two runs"},
        benign_fault{"rounding_mode", BNCONFORM_FAULTY_ROUNDING_MODE,
                     "floating-point environment changed (clause fp_environment_kept): rounding "
                     "mode upward"},
        benign_fault{"flush_to_zero", BNCONFORM_FAULTY_FLUSH_TO_ZERO,
                     "floating-point environment changed (clause fp_environment_kept)"}),
    [](const ::testing::TestParamInfo<benign_fault>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(FaultyKernels, TheHarnessUndoesAChangedEnvironment) {
  judged_forward(BNCONFORM_FAULTY_ROUNDING_MODE, "channels_last");
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

// The declarations that leave nothing to judge load (certify says why it judges
// nothing: certify_faulty_test).
TEST(FaultyKernels, DeclarationsThatLeaveNothingToJudgeLoad) {
  EXPECT_EQ(kernel_library(BNCONFORM_FAULTY_NO_OPERATION).kernel().capabilities().operations, 0u);
  const kernel_library ranks(BNCONFORM_FAULTY_EMPTY_RANK_RANGE);
  EXPECT_GT(ranks.kernel().capabilities().min_rank, ranks.kernel().capabilities().max_rank);
  EXPECT_FALSE(kernel_library(BNCONFORM_FAULTY_DEVICE_MEMORY).kernel().memory_available());
}

TEST(FaultyKernels, TheExampleKernelPassesTheSameCalls) {
  for (const char* layout_name : {"channels_first", "channels_last"}) {
    const check::comparison c = judged_forward(BNCONFORM_EXAMPLE_KERNEL, layout_name);
    EXPECT_TRUE(c.passed()) << c.describe();
  }
}

// The crashing and hanging kernels, each called only in a child process (a gtest
// death test forks): on the trigger the child dies; elsewhere it exits normally.
// Under AddressSanitizer a SIGSEGV becomes exit code 1, so "dies" is any abnormal
// end rather than one particular signal.
bool died(int status) {
  return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

void call_and_exit(const char* path, const char* layout_name) {
  const check::comparison c = judged_forward(path, layout_name);
  std::exit(c.passed() ? 0 : 3);
}

struct crashing_fault {
  const char* name;
  const char* path;
};
void PrintTo(const crashing_fault& f, std::ostream* out) { *out << f.name; }

class CrashingFault : public ::testing::TestWithParam<crashing_fault> {};

TEST_P(CrashingFault, LoadsAndNamesItself) {
  const kernel_library library(GetParam().path);
  EXPECT_EQ(library.kernel().name(), "faulty-" + std::string(GetParam().name));
}

TEST_P(CrashingFault, DiesOnItsTriggerOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(call_and_exit(GetParam().path, "channels_first"), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(call_and_exit(GetParam().path, "channels_last"), died, "");
}

INSTANTIATE_TEST_SUITE_P(FaultyKernelsDeathTest, CrashingFault,
                         ::testing::Values(crashing_fault{"segfault", BNCONFORM_FAULTY_SEGFAULT},
                                           crashing_fault{"abort", BNCONFORM_FAULTY_ABORT}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// The far write faults in y's guard pages, which the fault reporter names.
TEST(FaultyKernelsDeathTest, AFarWriteIsNamedByTheFaultReporter) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EQ(kernel_library(BNCONFORM_FAULTY_FAR_OUT_OF_BOUNDS).kernel().name(),
            "faulty-far-out-of-bounds");
  EXPECT_EXIT(call_and_exit(BNCONFORM_FAULTY_FAR_OUT_OF_BOUNDS, "channels_first"),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        guard_pages::report_faults_to(STDERR_FILENO);
        call_and_exit(BNCONFORM_FAULTY_FAR_OUT_OF_BOUNDS, "channels_last");
      },
      died, "fault out-of-bounds write: y, 65536 bytes past its end");
}

// The hang: the child's alarm ends it after a second of sleeping.
TEST(FaultyKernelsDeathTest, HangSleepsOnItsTriggerOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const kernel_library library(BNCONFORM_FAULTY_HANG);
  EXPECT_EQ(library.kernel().name(), "faulty-hang");
  EXPECT_EXIT(call_and_exit(BNCONFORM_FAULTY_HANG, "channels_first"), ::testing::ExitedWithCode(0),
              "");
  EXPECT_EXIT(
      {
        alarm(1);
        call_and_exit(BNCONFORM_FAULTY_HANG, "channels_last");
      },
      ::testing::KilledBySignal(SIGALRM), "");
}

}  // namespace
}  // namespace bnconform
