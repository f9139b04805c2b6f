#pragma once
// What certify writes: the summary a person reads on stdout, the JSON certificate
// and the JUnit XML file for CI dashboards (docs/certify.md describes all three).
#include <string>
#include <vector>

#include "certifier.hpp"

namespace bnconform::certify {

// What makes a certificate traceable besides the run itself: which bnconform,
// on which machine, from which command.
struct run_identity {
  std::string suite_version;              // the CMake project version
  std::string suite_revision;             // git revision at build time, or "unknown"
  std::vector<std::string> command_line;  // argv as given
  std::string cpu_model;                  // /proc/cpuinfo "model name", or "unknown"
  std::string kernel_variant;             // the built-in cpu kernel's variant; empty otherwise
};

// The table (operation x dtype x layout), the groups, every failure with its repro
// line, and the verdict.
std::string summary_text(const certification& c);

std::string certificate_json(const certification& c, const run_identity& run);
std::string junit_xml(const certification& c);

// Several profiles (certify_profiles): one profile's are exactly the functions
// above (its certificate gains the "profiles" section). Several: each implemented
// profile's summary, then a row per profile and the overall verdict; one
// certificate with a "profiles" section holding each profile's cells, groups,
// failures and items; JUnit suites named "<profile>/<group>".
std::string summary_text(const profiles_certification& pc);
std::string certificate_json(const profiles_certification& pc, const run_identity& run);
std::string junit_xml(const profiles_certification& pc);

}  // namespace bnconform::certify
