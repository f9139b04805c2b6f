#pragma once
// Where golden files live: CASES/<group>/<name>.json, the group being the name up
// to its first '.', so that a catalog of hundreds of cases stays browsable.
#include <string>
#include <vector>

namespace bnconform::golden {

std::string case_path(const std::string& cases_directory, const std::string& name);

// Every *.json under the directory (recursively), sorted; an error if it is not a
// directory.
std::vector<std::string> golden_files(const std::string& cases_directory);

// The case name a golden file's path stands for (its file name without .json).
std::string name_of_path(const std::string& path);

}  // namespace bnconform::golden
