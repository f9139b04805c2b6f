#pragma once
// What every peer adapter does around the peer's own call: reject a malformed call
// and what the adapter does not declare BEFORE the peer is called (so a rejected
// call changes nothing), and keep exceptions from crossing the ABI. Every call the
// ABI allows reaches the peer, the empty batch and one value per channel included:
// an adapter translates, it does not answer for the peer.
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

// Checks the call by the ABI's BAD_ARGUMENT clauses (bnconform/validate.h: the
// descriptor, NULL pointers where the problem needs a buffer, struct sizes, the
// factor) and the profile. Throws call_failure with BAD_ARGUMENT or UNSUPPORTED.
// The INVALID_PROBLEM clause (m == 1 with batch statistics) is the peer's to
// apply or not: it is not checked here.
problem checked_forward(const bnc_problem* descriptor, const bnc_forward_args* args);
problem checked_backward(const bnc_problem* descriptor, const bnc_backward_args* args);

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
