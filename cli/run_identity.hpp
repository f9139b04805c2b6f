#pragma once
// What a certificate records about the run besides its results: bnconform's
// version and git revision, the command line, the CPU model, and the instruction-set
// variant where the kernel is the built-in cpu kernel (the CLI knows that kernel;
// certify/ does not depend on impl/cpu).
#include <string>
#include <vector>

#include "certify/report.hpp"

namespace bnconform::cli {

// The "model name" of the first processor in a /proc/cpuinfo-style file, or
// "unknown" when the file or the line is missing.
std::string cpu_model_name(const std::string& cpuinfo_path = "/proc/cpuinfo");

certify::run_identity identify_run(const std::string& kernel_name, const std::string& suite_version,
                                   const std::vector<std::string>& command_line);

}  // namespace bnconform::cli
