#pragma once
// What every libFuzzer harness in this folder shares: the libFuzzer entry point
// (defined once per harness) and the way a harness reports a finding. A finding is
// an abort with one line on stderr, so that libFuzzer saves the input and the
// replay executables under ctest fail on it.
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace bnconform::fuzzing {

// Prints "finding: <what>" and aborts.
[[noreturn]] void finding(std::string_view what);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace bnconform::fuzzing
