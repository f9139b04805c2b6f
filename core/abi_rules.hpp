#pragma once
// The ABI's argument checks (include/bnconform/validate.h, docs/abi.md "Validating
// arguments") for the C++ kernels: the first violated clause as a status and a
// message, so each kernel turns it into its own rejection. Header-only.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "bnconform/validate.h"

namespace bnconform {

struct abi_violation {
  bnc_status code;
  std::string message;  // "<clause>: <text>"
};

namespace detail {
inline std::optional<abi_violation> run_clauses(const bnc_clause* table, std::size_t count,
                                                const bnc_call& call, bnc_status only) {
  std::array<char, 1024> text{};
  const bnc_status s = bnc_validate_run(table, count, &call, only, text.data(), text.size());
  if (s == BNC_STATUS_OK) return std::nullopt;
  return abi_violation{s, text.data()};
}
}  // namespace detail

// The descriptor's clauses (bnc_problem_clauses).
inline std::optional<abi_violation> problem_abi_rules(const bnc_problem* problem) {
  std::size_t count = 0;
  const bnc_clause* table = bnc_problem_clauses(&count);
  return detail::run_clauses(table, count, bnc_forward_call(problem, nullptr, 0), BNC_STATUS_OK);
}

// The forward clauses whose status is `only` (every clause for BNC_STATUS_OK).
// keeps_module_state: the kernel's capability of that name.
inline std::optional<abi_violation> forward_abi_rules(const bnc_problem* problem,
                                                      const bnc_forward_args* args,
                                                      std::int32_t keeps_module_state,
                                                      bnc_status only) {
  std::size_t count = 0;
  const bnc_clause* table = bnc_forward_clauses(&count);
  return detail::run_clauses(table, count, bnc_forward_call(problem, args, keeps_module_state),
                             only);
}

inline std::optional<abi_violation> backward_abi_rules(const bnc_problem* problem,
                                                       const bnc_backward_args* args,
                                                       bnc_status only) {
  std::size_t count = 0;
  const bnc_clause* table = bnc_backward_clauses(&count);
  return detail::run_clauses(table, count, bnc_backward_call(problem, args), only);
}

}  // namespace bnconform
