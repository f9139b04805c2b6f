#include "huge_pages.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace bnconform::cli {

void reexecute_with_huge_pages(char** argv) {
  constexpr std::string_view tunable = "glibc.malloc.hugetlb";
  const char* opt_out = std::getenv("BNCONFORM_HUGE_PAGES");
  if (opt_out != nullptr && std::string_view(opt_out) == "0") return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  const bool had_tunables = current != nullptr;
  const std::string previous = had_tunables ? current : "";
  std::string tunables = previous;
  // Present already (set by the user, or by the first execution): no loop.
  if (tunables.find(tunable) != std::string::npos) return;
  tunables += tunables.empty() ? "" : ":";
  tunables += std::string(tunable) + "=1";
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when execv failed: carry on without, and leave the environment as
  // it was for the kernels and children of this process.
  if (had_tunables) {
    setenv("GLIBC_TUNABLES", previous.c_str(), 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace bnconform::cli
