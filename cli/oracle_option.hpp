#pragma once
// --oracle exact|multiprecision: which reference engine judges (both give the same
// bits; the exact one is the default and is 10 to 100 times faster). The choice is
// process-wide, so certify's and fuzz's forked workers inherit it.
#include <CLI/CLI.hpp>

namespace bnconform::cli {

void add_oracle_option(CLI::App* command);

}  // namespace bnconform::cli
