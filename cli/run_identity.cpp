#include "run_identity.hpp"

#include <fstream>

#include "build_revision.hpp"
#include "impl/cpu/cpu_kernel.hpp"

namespace bnconform::cli {

std::string cpu_model_name(const std::string& cpuinfo_path) {
  std::ifstream in(cpuinfo_path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::size_t first = line.find_first_not_of(" \t", colon + 1);
    if (first == std::string::npos) continue;
    return line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
  }
  return "unknown";
}

certify::run_identity identify_run(const std::string& kernel_name, const std::string& suite_version,
                                   const std::vector<std::string>& command_line) {
  certify::run_identity r;
  r.suite_version = suite_version;
  r.suite_revision = std::string(build_revision());
  r.command_line = command_line;
  r.cpu_model = cpu_model_name();
  // The variant the cpu kernel picks at run time: the same in the worker processes,
  // which run this binary on this machine.
  if (kernel_name == "cpu") r.kernel_variant = cpu::variant_name();
  return r;
}

}  // namespace bnconform::cli
