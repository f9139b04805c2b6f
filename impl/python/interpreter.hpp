#pragma once
// CPython inside a kernel plugin. The interpreter starts in the process that loads
// the first python: kernel (certify and fuzz load kernels in their forked workers,
// so it starts there, after the fork) and is never finalized: numpy and torch do
// not survive finalization, and the process ends soon after anyway.
#include <string>

namespace bnconform::python_host {

// Starts the interpreter once (later calls do nothing): makes libpython's symbols
// global (extension modules such as numpy's resolve them there, and the host is
// loaded RTLD_LOCAL), installs no signal handlers (the harness owns SIGSEGV and
// SIGBUS), puts `package_directory` (the project's Python kernels) at the end of
// sys.path, and leaves the GIL released: every call takes it.
void start_interpreter(const std::string& package_directory);

// The directory of the project's Python kernels relative to this plugin: the build
// tree's and the installed share/bnconform/python (cmake/InstallLayout.cmake).
std::string package_directory();

}  // namespace bnconform::python_host
