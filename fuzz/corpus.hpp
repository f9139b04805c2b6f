#pragma once
// A fuzz corpus: a directory of case files, each with its "finding" (what was found,
// by which kernel, at which level, from which seed). Files are named by content,
// `<verdict>-<hash>.json` with the hash over the inputs, the kernel and the
// verdict, so the same finding is saved once however often it is found, and the
// same inputs with different verdicts (or kernels) are kept apart. Every file is
// written to a temporary name in the same directory and renamed: a corpus never
// holds a half-written file, whatever kills the writer.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/case_file.hpp"

namespace bnconform::fuzz {

// 16 hex digits of a 64-bit FNV-1a hash.
std::string content_hash(std::string_view bytes);

// The file name a finding gets.
std::string corpus_name(const case_file& c);

// Writes the case into `dir` (created if missing) under its corpus name, atomically.
// Returns the path; an existing file of that name is left as it is (same content).
std::filesystem::path save_finding(const std::filesystem::path& dir, const case_file& c);

// The case files of a corpus: every *.json in `path` (sorted), or `path` itself.
std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& path);

struct merge_report {
  int added = 0;      // files new to the destination
  int duplicate = 0;  // already there (same name: same inputs, kernel and verdict)
};

// Copies every finding of `sources` into `destination` under its corpus name
// (renaming files from older writers). Throws bnconform::error for a file that is
// not a case file with a finding.
merge_report merge_corpora(const std::filesystem::path& destination,
                           const std::vector<std::filesystem::path>& sources);

}  // namespace bnconform::fuzz
