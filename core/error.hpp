#pragma once
// The one exception type of bnconform: bad input (problem strings, case files,
// descriptors) and broken contracts are reported through it, with a message a
// user can act on.
#include <stdexcept>
#include <string>

namespace bnconform {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void report_error(const std::string& message) { throw error(message); }

}  // namespace bnconform
