#include "adapter_call.hpp"

#include <cstdio>
#include <new>
#include <vector>

#include "core/abi_rules.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"

namespace bnconform::adapters {

namespace {

// The ABI's clauses (bnconform/validate.h, docs/abi.md "Validating arguments"):
// the first violated one rejects the call.
void enforce(const std::optional<abi_violation>& v) {
  if (v) throw call_failure(v->code, v->message);
}

// What the adapters do not implement (nor declare): profiles other than pytorch.
problem supported_problem(const bnc_problem* descriptor) {
  problem p = from_abi(*descriptor);
  if (p.profile() != profile::pytorch) {
    throw call_failure(BNC_STATUS_UNSUPPORTED, "only the pytorch profile is implemented, not " +
                                                   std::string(name_of(p.profile())));
  }
  return p;
}

}  // namespace

problem checked_forward(const bnc_problem* descriptor, const bnc_forward_args* a) {
  // The descriptor, the profile, then the arguments. The adapters keep no module
  // state: the caller's exponential_average_factor is checked.
  enforce(problem_abi_rules(descriptor));
  problem p = supported_problem(descriptor);
  enforce(forward_abi_rules(descriptor, a, 0, BNC_STATUS_BAD_ARGUMENT));
  return p;
}

problem checked_backward(const bnc_problem* descriptor, const bnc_backward_args* a) {
  enforce(problem_abi_rules(descriptor));
  problem p = supported_problem(descriptor);
  enforce(backward_abi_rules(descriptor, a, BNC_STATUS_BAD_ARGUMENT));
  return p;
}

void update_running_statistics(const problem& p, double factor, const double* mean,
                               const double* biased_var, void* running_mean, void* running_var) {
  const std::int64_t c = p.channels();
  const dtype st = p.stats_type();
  const double m = static_cast<double>(p.reduction_size());
  std::vector<double> rm = read_values(running_mean, st, c);
  std::vector<double> rv = read_values(running_var, st, c);
  for (std::size_t i = 0; i < rm.size(); ++i) {
    rm[i] = factor * mean[i] + (1.0 - factor) * rm[i];
    rv[i] = factor * (biased_var[i] * m / (m - 1.0)) + (1.0 - factor) * rv[i];
  }
  write_values(running_mean, st, rm);
  write_values(running_var, st, rv);
}

void write_message(char* buffer, std::size_t size, const std::string& text) {
  if (buffer == nullptr || size == 0) return;
  std::snprintf(buffer, size, "%s", text.c_str());
}

bnc_status guarded_status(char* message, std::size_t size, bnc_status (*body)(void*), void* state) {
  write_message(message, size, "");
  try {
    return body(state);
  } catch (const call_failure& e) {
    write_message(message, size, e.what());
    return e.code();
  } catch (const error& e) {
    write_message(message, size, e.what());
    return BNC_STATUS_BAD_ARGUMENT;
  } catch (const std::bad_alloc&) {
    write_message(message, size, "out of memory");
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (const std::exception& e) {
    write_message(message, size, e.what());
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (...) {
    write_message(message, size, "unknown exception");
    return BNC_STATUS_INTERNAL_ERROR;
  }
}

}  // namespace bnconform::adapters
