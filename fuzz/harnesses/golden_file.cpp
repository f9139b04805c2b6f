// libFuzzer harness: the golden-file reader (parse_golden). The checksum would stop
// almost every mutated input at the door, so the harness first writes the correct
// SHA-256 into the "sha256" field (where there is one) and lets the reader go on to
// the JSON, the case and the expected outputs. A file it accepts must write back to
// a file that reads back to the same text.
#include "golden/golden_file.hpp"

#include <string>

#include "core/error.hpp"
#include "harness.hpp"

namespace {

constexpr std::string_view checksum_key = "\"sha256\": \"";
constexpr std::size_t checksum_digits = 64;

std::string with_correct_checksum(std::string text) {
  const std::size_t at = text.find(checksum_key);
  if (at == std::string::npos || text.size() < at + checksum_key.size() + checksum_digits) {
    return text;
  }
  const std::size_t digits = at + checksum_key.size();
  text.replace(digits, checksum_digits, std::string(checksum_digits, '0'));
  text.replace(digits, checksum_digits, bnconform::golden::sha256_hex(text));
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bnconform;
  const std::string text = with_correct_checksum(std::string(fuzzing::as_text(data, size)));
  try {
    const golden::golden_case g = golden::parse_golden(text, "input");
    const std::string written = golden::to_text(g);
    std::string again;
    try {
      again = golden::to_text(golden::parse_golden(written, "written"));
    } catch (const error& e) {
      fuzzing::finding(std::string("the written golden file does not read back: ") + e.what());
    }
    if (again != written) fuzzing::finding("the written golden file reads back differently");
  } catch (const error&) {
    // A clear rejection is the right answer to a bad file.
  }
  return 0;
}
