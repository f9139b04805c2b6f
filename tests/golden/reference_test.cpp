// The built-in kernels against every golden case, through the error model, one
// test per kernel and catalog group. The reference runs at the catalog's precision
// (256 bits: its stored outputs must be reproduced) and at 128 and 512 bits
// (independent second computations of every expected output).
//
// Adding a built-in kernel is one line in builtin_kernels() below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>

#include "golden/checker.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "reference/reference_kernel.hpp"
#include "support.hpp"

namespace bnconform::golden {
namespace {

struct builtin_kernel {
  std::string name;
  std::function<const bnc_kernel*()> description;
  check::level level = check::level::strict;
  // The 128-bit reference refuses (internal_error) calls whose inputs span more
  // binary orders of magnitude than it can vouch for (docs/reference.md).
  bool refuses_wide_spans = false;
};

std::vector<builtin_kernel> builtin_kernels() {
  return {
      {"reference128", [] { return reference::reference_kernel(128); }, check::level::strict, true},
      {"reference256", [] { return reference::reference_kernel(256); }},
      {"reference512", [] { return reference::reference_kernel(512); }},
      {"cpu", [] { return cpu::cpu_kernel(); }},
  };
}

// Every group of the catalog (a folder of golden/cases).
std::vector<std::string> groups() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(testing::cases_directory())) {
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct run {
  builtin_kernel k;
  std::string group;
};

void PrintTo(const run& r, std::ostream* out) { *out << r.k.name << " on " << r.group; }

// What a correct kernel may get besides pass: ill-posed (eps == 0 with a constant
// channel: reported, not judged); unsupported (what it does not declare);
// mistrusted where the expected dx is mostly exactly zero (gamma == 0: the data
// cannot judge a kernel); and, for the 128-bit reference, a refusal of wide spans.
bool acceptable(const case_verdict& v, const builtin_kernel& k) {
  if (v.passed() || v.result == check::verdict::unsupported) return true;
  if (v.result == check::verdict::mistrusted &&
      v.reason.find("values are exactly zero") != std::string::npos) {
    return true;
  }
  return k.refuses_wide_spans && v.result == check::verdict::fail &&
         v.reason.find("more than a 128-bit reference can vouch for") != std::string::npos;
}

class GoldenBuiltinKernel : public ::testing::TestWithParam<run> {};

TEST_P(GoldenBuiltinKernel, PassesEveryGoldenCase) {
  const kernel k(GetParam().k.description());
  int passed = 0, unsupported = 0, total = 0;
  for (const golden_case& g : testing::group(GetParam().group)) {
    const case_verdict v = check_case(k, g, GetParam().k.level);
    EXPECT_TRUE(acceptable(v, GetParam().k))
        << g.name << ": " << check::name_of(v.result) << ": " << v.reason;
    passed += v.result == check::verdict::pass;
    unsupported += v.result == check::verdict::unsupported;
    ++total;
    if (v.result == check::verdict::ill_posed) {
      EXPECT_NE(g.name.find("eps0"), std::string::npos) << g.name;
    }
  }
  // Something must pass, unless the kernel declares none of the group (the cpu
  // kernel and the onnx profile).
  EXPECT_TRUE(passed > 0 || unsupported == total) << passed << " passed of " << total;
}

std::string name_of_run(const ::testing::TestParamInfo<run>& info) {
  std::string name = info.param.k.name + "On";
  for (char c : info.param.group) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  }
  return name;
}

std::vector<run> runs() {
  std::vector<run> out;
  for (const builtin_kernel& k : builtin_kernels()) {
    for (const std::string& g : groups()) out.push_back({k, g});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalog, GoldenBuiltinKernel, ::testing::ValuesIn(runs()), name_of_run);

}  // namespace
}  // namespace bnconform::golden
