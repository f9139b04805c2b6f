#pragma once
// certify's failing items as case files in a directory (--save-failures, and
// REPORTDIR/failures/ under --report): each one replays with `bnconform check`
// (certify/failure_case.hpp builds them; docs/certify.md, "Replaying a failure").
#include <string>

#include "certify/certifier.hpp"

namespace bnconform::cli {

// Whether `directory` can be made and written, without making it: it is a
// writable directory, or its nearest existing ancestor is. A usage error
// (bnconform::error naming `option`) otherwise, so that every output directory is
// checked before any is created and nothing is left half-written.
void check_writable_directory(const std::string& directory, const std::string& option);

// Creates `directory` (and its parents) and makes sure files can be written in
// it; a usage error (bnconform::error naming `option`) otherwise, before any
// kernel runs.
void prepare_failure_directory(const std::string& directory, const std::string& option);

// Writes one case file per failing item that has one (each atomically) and records
// in c.saved_failures what was written, or why an item has none.
void save_failures(certify::certification& c, const std::string& directory);

}  // namespace bnconform::cli
