#pragma once
// Where a command's JSON goes: stdout, or a file replaced atomically so that a
// reader (or a crash half-way) never sees a half-written result.
#include <string>
#include <string_view>

namespace bnconform::cli {

// Writes `text` to a temporary file beside `path`, then renames it over `path`.
// Throws bnconform::error naming the path.
void write_file_atomically(const std::string& path, std::string_view text);

// To stdout when `path` is empty, else write_file_atomically.
void emit(const std::string& path, std::string_view text);

}  // namespace bnconform::cli
