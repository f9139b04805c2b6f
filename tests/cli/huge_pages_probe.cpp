// The command's re-execution with glibc.malloc.hugetlb=1 (cli/huge_pages.hpp), as
// a program of its own: it calls the same function as bnconform's main and prints
// GLIBC_TUNABLES as the (re-executed) process sees it. tests/cli/CMakeLists.txt runs
// it in three environments and checks what it prints.
#include <cstdio>
#include <cstdlib>

#include "cli/huge_pages.hpp"

int main(int, char** argv) {
  bnconform::cli::reexecute_with_huge_pages(argv);
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::printf("GLIBC_TUNABLES=[%s]\n", tunables == nullptr ? "" : tunables);
  return 0;
}
