#pragma once
// A user's shapes for certify's `realistic` group (`--shapes FILE`): one per line,
// either a shape ("32x64x56x56": every declared dtype and layout, a training step)
// or a whole problem string ("shape=32x64x56x56,dtype=bf16,layout=nhwc,mode=eval":
// exactly that call). Blank lines and lines starting with '#' are skipped.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/problem.hpp"

namespace bnconform::certify {

struct shape_line {
  int line = 0;                     // 1-based, in the file
  std::vector<std::int64_t> shape;  // N, C, S1, ..., Sk
  std::optional<problem> exactly;   // set when the line is a problem string
};

// Throws bnconform::error "FILE:LINE: why" for a line that is neither, and
// "FILE: ..." for a file that cannot be read or holds no shape.
std::vector<shape_line> read_shapes_file(const std::string& path);

}  // namespace bnconform::certify
