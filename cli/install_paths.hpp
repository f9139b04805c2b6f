#pragma once
// Where the bnconform command finds what it reads at run time: the golden catalog
// (golden/cases, golden/specs) and the plugin libraries it loads by name. Found
// relative to the running executable, never by a path compiled in, so that an
// installed or moved tree works (cmake/InstallLayout.cmake sets the layouts):
//   installed:  PREFIX/bin/bnconform, PREFIX/share/bnconform, PREFIX/lib/bnconform
//   build tree: BUILD/bnconform, BUILD/share/bnconform (links into the source tree),
//               BUILD/lib/bnconform
// BNCONFORM_DATA_DIR and BNCONFORM_PLUGIN_DIR, when set, override each.
#include <filesystem>

namespace bnconform::cli {

// The directory holding golden/cases and golden/specs.
std::filesystem::path data_directory();

// The directory holding the plugin libraries (libbnconform_<name>_plugin.so).
std::filesystem::path plugin_directory();

}  // namespace bnconform::cli
