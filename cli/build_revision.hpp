#pragma once
// The git revision bnconform was built from (cmake/Revision.cmake writes the
// definition at build time): a commit hash, with "-dirty" when the work tree had
// changes, or "unknown" for sources outside a git checkout (a tarball).
#include <string_view>

namespace bnconform::cli {

std::string_view build_revision();

}  // namespace bnconform::cli
