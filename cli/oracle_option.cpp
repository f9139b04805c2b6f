#include "oracle_option.hpp"

#include <string>

#include "reference/reference.hpp"

namespace bnconform::cli {

void add_oracle_option(CLI::App* command) {
  command
      ->add_option_function<std::string>(
          "--oracle",
          [](const std::string& name) {
            reference::set_default_oracle(*reference::parse_oracle(name));
          },
          "Reference engine that judges: exact (default) or multiprecision; both give the "
          "same bits")
      ->check(CLI::IsMember({"exact", "multiprecision"}));
}

}  // namespace bnconform::cli
