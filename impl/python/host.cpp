// The Python kernel host as a plugin: `bnconform --kernel python:MODULE` loads it
// and asks its hosted-kernel entry point (core/kernel_host.hpp) for MODULE's kernel.
// It exports no bnconform_kernel: a host serves no kernel of its own.
#include <cstdio>
#include <exception>
#include <string>

#include "bnconform/kernel.h"
#include "core/error.hpp"
#include "interpreter.hpp"
#include "python_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_hosted_kernel(const char* argument, char* message,
                                                                size_t message_size) {
  namespace host = bnconform::python_host;
  const auto say = [&](const std::string& text) {
    if (message != nullptr && message_size > 0)
      std::snprintf(message, message_size, "%s", text.c_str());
  };
  try {
    host::start_interpreter(host::package_directory());
    return &host::load_python_kernel(argument == nullptr ? "" : argument).description;
  } catch (const bnconform::error& e) {
    say(e.what());
  } catch (const std::exception& e) {
    say(std::string("python kernel '") + (argument ? argument : "") + "': " + e.what());
  }
  return nullptr;
}
