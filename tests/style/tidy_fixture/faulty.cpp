// A deliberately faulty source for style_clang_tidy_catches: tests/style/check_tidy.sh
// must fail on it with the findings named in tests/style/CMakeLists.txt. Not built.
#include <cstddef>
#include <string>

namespace bnconform::style_fixture {

// performance-unnecessary-value-param: the string is copied on every call.
std::size_t length_of(std::string text) { return text.size(); }

// bugprone-integer-division: the fraction is lost before the conversion.
double half_of(int count) { return 1.0 * (count / 2); }

}  // namespace bnconform::style_fixture
