#pragma once
// What every peer adapter does around the peer's own call: read and check the ABI
// arguments, apply semantics.md's error rules and degenerate cases BEFORE the
// peer is called (so a rejected call changes nothing and a peer that crashes on an
// empty batch is never reached), and keep exceptions from crossing the ABI.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bnconform/kernel.h"
#include "core/problem.hpp"

namespace bnconform::adapters {

// A failure with its ABI status; thrown inside an adapter, turned into the status
// and message by guarded().
class call_failure : public std::exception {
 public:
  call_failure(bnc_status code, std::string message) : code_(code), message_(std::move(message)) {}
  bnc_status code() const { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  bnc_status code_;
  std::string message_;
};

// Checks the call by the ABI's clauses (bnconform/validate.h: the descriptor, NULL
// pointers where the problem needs a buffer, struct sizes, the factor, the m == 1
// rule) and the profile. Throws call_failure with BAD_ARGUMENT, UNSUPPORTED or
// INVALID_PROBLEM.
problem checked_forward(const bnc_problem* descriptor, const bnc_forward_args* args);
problem checked_backward(const bnc_problem* descriptor, const bnc_backward_args* args);

// semantics.md's empty batch (and C == 0): nothing for the peer to compute. Writes
// save_mean and save_invstd as NaN (0 / 0, as the reference does), leaves the
// running statistics, and zeroes dgamma and dbeta. Returns true when it handled
// the call.
bool handled_empty_forward(const problem& p, const bnc_forward_args& args);
bool handled_empty_backward(const problem& p, const bnc_backward_args& args);

// running = (1 - f) running + f batch, with the unbiased variance var * m / (m - 1),
// written as PyTorch writes it (f * batch + (1 - f) * running) in double and rounded
// once to the statistics dtype. `mean` and `biased_var` have C doubles.
void update_running_statistics(const problem& p, double factor, const double* mean,
                               const double* biased_var, void* running_mean, void* running_var);

// Runs body() and turns every exception into a status and a message: nothing
// crosses the ABI. The message buffer is cleared first.
template <class Body>
bnc_status guarded(char* message, std::size_t size, Body&& body);

void write_message(char* buffer, std::size_t size, const std::string& text);
bnc_status guarded_status(char* message, std::size_t size, bnc_status (*body)(void*), void* state);

template <class Body>
bnc_status guarded(char* message, std::size_t size, Body&& body) {
  auto trampoline = [](void* state) -> bnc_status { return (*static_cast<Body*>(state))(); };
  return guarded_status(message, size, trampoline, &body);
}

}  // namespace bnconform::adapters
