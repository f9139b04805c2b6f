#pragma once
// What certify writes: the summary a person reads on stdout, the JSON certificate
// and the JUnit XML file for CI dashboards (docs/certify.md describes all three).
#include <string>

#include "certifier.hpp"

namespace bnconform::certify {

// The table (operation x dtype x layout), the groups, every failure with its repro
// line, and the verdict.
std::string summary_text(const certification& c);

// `suite_version`: bnconform's version.
std::string certificate_json(const certification& c, const std::string& suite_version);
std::string junit_xml(const certification& c);

}  // namespace bnconform::certify
