// libFuzzer harness: the problem-string parser (problem::parse), the reader of
// every --problem option, case file and repro line. A string it accepts must print
// canonically and read back to the same problem.
#include <string>

#include "core/error.hpp"
#include "core/problem.hpp"
#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bnconform;
  const std::string_view text = fuzzing::as_text(data, size);
  try {
    const problem p = problem::parse(text);
    const std::string canonical = p.to_string();
    const problem back = problem::parse(canonical);
    if (!(back == p)) fuzzing::finding("canonical string reads back differently: " + canonical);
    if (back.to_string() != canonical) {
      fuzzing::finding("canonical string is not a fixed point: " + canonical + " -> " +
                       back.to_string());
    }
  } catch (const error&) {
    // A clear rejection is the right answer to bad text.
  }
  return 0;
}
