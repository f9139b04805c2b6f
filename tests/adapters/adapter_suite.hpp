#pragma once
// One conformance suite for every peer adapter, written once and instantiated per
// adapter in a small file of its own (GoogleTest's "abstract test" pattern). Each
// test binary defines adapter_under_test().
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "check/compare.hpp"
#include "core/kernel.hpp"

namespace bnconform::testing {

struct adapter_description {
  const bnc_kernel* kernel;
  // The level the peer reaches, per data dtype (see impl/adapters/README.md): a
  // peer is judged where it honestly stands.
  check::level (*level_for)(dtype t);
  // Judgements known to fail, by key ("<problem> forward", "<what> backward"), with
  // who is wrong and why; nullptr for every other key. A listed judgement must
  // still fail, so the list cannot go stale.
  const char* (*known_failure)(std::string_view key);
  // Judgements whose call kills the process, by the same keys: the signal (SIGFPE,
  // ...), 0 for every other key. Such a call runs in a death test, which must see
  // that signal, so this list cannot go stale either.
  int (*known_signal)(std::string_view key);
  // Judgements whose outputs hold memory the peer leaves uninitialized (outputs the
  // error model does not judge, e.g. an empty batch's saved statistics): their
  // bits may or may not repeat from call to call, so the determinism check, which
  // would pass or fail by chance, is left out there and nowhere else.
  bool (*unrepeatable)(std::string_view key);
};

// Defined by each adapter's test file.
const adapter_description& adapter_under_test();

// The fixed problems of the conformance suite for a kernel: every declared
// operation, dtype and layout at ranks 2 to 5 (within the declared ranks), and
// the module variants (no affine, no tracking, momentum None, 0 and 1, eps 0).
std::vector<problem> conformance_problems(const bnc_kernel& k);

// Ordinary inputs of a problem from a seed: x = 0.5 + N(0, 1), dy = N(0, 1),
// gamma, beta and the running statistics random, the variance positive.
struct problem_inputs {
  tensor x, dy;
  module_state state;
};
problem_inputs ordinary_inputs(const problem& p, unsigned seed, double offset = 0.5);

// The suite's fixtures. Each adapter's test file instantiates them all with
// BNCONFORM_INSTANTIATE_ADAPTER_SUITE(Name), so that every test name carries the
// adapter's (ctest runs both binaries side by side).
class AdapterConformance : public ::testing::TestWithParam<const char*> {};
class AdapterBadCalls : public ::testing::TestWithParam<const char*> {};
class AdapterCapabilities : public ::testing::TestWithParam<const char*> {};
class AdapterDegenerate : public ::testing::TestWithParam<const char*> {};
class AdapterDeterminism : public ::testing::TestWithParam<const char*> {};
class AdapterLevel : public ::testing::TestWithParam<const char*> {};

// The names of the data dtypes k declares ("f32", ...): AdapterConformance's parameters.
std::vector<const char*> declared_dtype_names(const bnc_kernel& k);

// Points the CLI's lookup of plugins by name at the directory of plugin_path: a test
// binary is not the bnconform command, beside which the CLI looks
// (cli/install_paths.hpp), so the test sets BNCONFORM_PLUGIN_DIR.
void use_plugin_directory_of(const std::string& plugin_path);

}  // namespace bnconform::testing

#define BNCONFORM_INSTANTIATE_ADAPTER_SUITE(Name)                                \
  INSTANTIATE_TEST_SUITE_P(                                                      \
      Name, AdapterConformance,                                                  \
      ::testing::ValuesIn(declared_dtype_names(*adapter_under_test().kernel)),   \
      [](const ::testing::TestParamInfo<const char*>& dtype_info) {              \
        return std::string(dtype_info.param);                                    \
      });                                                                        \
  INSTANTIATE_TEST_SUITE_P(Name, AdapterBadCalls, ::testing::Values(#Name));     \
  INSTANTIATE_TEST_SUITE_P(Name, AdapterCapabilities, ::testing::Values(#Name)); \
  INSTANTIATE_TEST_SUITE_P(Name, AdapterDegenerate, ::testing::Values(#Name));   \
  INSTANTIATE_TEST_SUITE_P(Name, AdapterDeterminism, ::testing::Values(#Name));  \
  INSTANTIATE_TEST_SUITE_P(Name, AdapterLevel, ::testing::Values(#Name))
