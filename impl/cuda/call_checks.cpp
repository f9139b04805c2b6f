// Checks a call completely before anything runs, so a rejected call writes
// nothing and moves no state: the ABI's clauses (bnconform/validate.h: pointers,
// descriptor, exponential_average_factor, semantics.md's m == 1 rule) and the
// profile. Host code only.
#include "call_checks.hpp"

#include <cstdio>
#include <string>

#include "core/abi_rules.hpp"
#include "core/error.hpp"
#include "core/problem.hpp"

namespace bnconform::cuda {

namespace {

struct rejected {
  bnc_status code;
  std::string message;
};

// The ABI's clauses (bnconform/validate.h, docs/abi.md "Validating arguments"):
// the first violated one rejects the call.
void enforce(const std::optional<abi_violation>& v) {
  if (v) throw rejected{v->code, v->message};
}

// What the CUDA kernel does not implement (nor declare); returns the problem.
problem supported_problem(const bnc_problem* descriptor) {
  problem p = from_abi(*descriptor);
  if (p.profile() != profile::pytorch) {
    throw rejected{BNC_STATUS_UNSUPPORTED,
                   "the CUDA kernel implements only the pytorch profile, not " +
                       std::string(name_of(p.profile()))};
  }
  return p;
}

geometry geometry_of(const problem& p) {
  return make_geometry(p.layout() == layout::channels_last, p.shape().data(), p.rank());
}

template <class Body>
bnc_status guarded(char* message, std::size_t size, Body&& body) {
  const auto say = [&](const std::string& text) {
    if (message != nullptr && size > 0) std::snprintf(message, size, "%s", text.c_str());
  };
  say("");
  try {
    const std::string failure = body();
    if (failure.empty()) return BNC_STATUS_OK;
    say(failure);
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (const rejected& r) {
    say(r.message);
    return r.code;
  } catch (const error& e) {
    say(e.what());
    return BNC_STATUS_BAD_ARGUMENT;
  } catch (const std::exception& e) {
    say(e.what());
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (...) {
    say("unknown exception");
    return BNC_STATUS_INTERNAL_ERROR;
  }
}

}  // namespace

bnc_status checked_forward(const bnc_problem* descriptor, const bnc_forward_args* a, char* message,
                           std::size_t size, forward_runner run) {
  return guarded(message, size, [&]() -> std::string {
    // The descriptor, what this kernel implements, then the arguments and m == 1;
    // keeps_module_state = 0: the caller's exponential_average_factor is checked.
    enforce(problem_abi_rules(descriptor));
    const problem p = supported_problem(descriptor);
    enforce(forward_abi_rules(descriptor, a, 0, BNC_STATUS_OK));
    const bool batch = p.uses_batch_statistics();
    const bool update = p.track_running_stats() && p.mode() == mode::training;
    const double f = a->exponential_average_factor;
    device_forward call;
    call.shape = geometry_of(p);
    call.data = to_abi(p.data_type());
    call.batch_statistics = batch;
    call.update_running = update;
    call.affine = p.affine();
    call.eps = p.eps();
    call.factor = f;
    call.x = a->x;
    call.y = a->y;
    call.gamma = a->gamma;
    call.beta = a->beta;
    call.running_mean = a->running_mean;
    call.running_var = a->running_var;
    call.save_mean = a->save_mean;
    call.save_invstd = a->save_invstd;
    call.stream = a->stream;
    return run(call);
  });
}

bnc_status checked_backward(const bnc_problem* descriptor, const bnc_backward_args* a,
                            char* message, std::size_t size, backward_runner run) {
  return guarded(message, size, [&]() -> std::string {
    enforce(problem_abi_rules(descriptor));
    const problem p = supported_problem(descriptor);
    enforce(backward_abi_rules(descriptor, a, BNC_STATUS_OK));
    const bool batch = p.uses_batch_statistics();
    device_backward call;
    call.shape = geometry_of(p);
    call.data = to_abi(p.data_type());
    call.batch_statistics = batch;
    call.affine = p.affine();
    call.eps = p.eps();
    call.x = a->x;
    call.dy = a->dy;
    call.dx = a->dx;
    call.gamma = a->gamma;
    call.save_mean = a->save_mean;
    call.save_invstd = a->save_invstd;
    call.running_mean = a->running_mean;
    call.running_var = a->running_var;
    call.dgamma = a->dgamma;
    call.dbeta = a->dbeta;
    call.stream = a->stream;
    return run(call);
  });
}

}  // namespace bnconform::cuda
