// libFuzzer harness: the case-file reader (parse_case), which reads files people
// and fuzz campaigns write. A file it accepts must write back (decimal and hex)
// to text that reads back to the same case, values exact.
#include "core/case_file.hpp"

#include <string>

#include "core/error.hpp"
#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bnconform;
  try {
    const case_file c = parse_case(fuzzing::as_text(data, size), "input");
    for (const bool hex : {false, true}) {
      const std::string written = to_json(c, hex);
      std::string again;
      try {
        again = to_json(parse_case(written, "written"), hex);
      } catch (const error& e) {
        fuzzing::finding(std::string("the written case does not read back: ") + e.what());
      }
      if (again != written) fuzzing::finding("the written case reads back differently");
    }
  } catch (const error&) {
    // A clear rejection is the right answer to a bad file.
  }
  return 0;
}
