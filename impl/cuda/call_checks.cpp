// Checks a call completely before anything runs, so a rejected call writes
// nothing and moves no state: the ABI's pointers, the problem (core's from_abi),
// the profile, and semantics.md's m == 1 rule. Host code only.
#include "call_checks.hpp"

#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "core/problem.hpp"

namespace bnconform::cuda {

namespace {

struct rejected {
  bnc_status code;
  std::string message;
};

void require(const void* pointer, bool needed, const char* name) {
  if (needed && pointer == nullptr)
    throw rejected{BNC_STATUS_BAD_ARGUMENT,
                   std::string(name) + " is NULL but the problem needs it"};
}

std::string shape_text(const problem& p) {
  std::string s = "(";
  for (int i = 0; i < p.rank(); ++i) s += (i ? ", " : "") + std::to_string(p.shape()[i]);
  return s + ")";
}

// The checks both directions share; returns the validated problem.
problem checked_problem(const bnc_problem* descriptor) {
  problem p = from_abi(*descriptor);
  if (p.profile() != profile::pytorch) {
    throw rejected{BNC_STATUS_UNSUPPORTED,
                   "the CUDA kernel implements only the pytorch profile, not " +
                       std::string(name_of(p.profile()))};
  }
  // semantics.md: training (or eval without running statistics) with one value
  // per channel is rejected before anything is written.
  if (p.uses_batch_statistics() && p.reduction_size() == 1) {
    throw rejected{
        BNC_STATUS_INVALID_PROBLEM,
        "Expected more than 1 value per channel when training, got input size " + shape_text(p)};
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
    if (descriptor == nullptr || a == nullptr) report_error("problem or args is NULL");
    if (a->struct_size < sizeof(bnc_forward_args))
      report_error("bnc_forward_args.struct_size is too small");
    const problem p = checked_problem(descriptor);
    const bool batch = p.uses_batch_statistics();
    const bool track = p.track_running_stats();
    const bool update = track && p.mode() == mode::training;
    const bool has_elements = p.element_count() > 0;
    require(a->x, has_elements, "x");
    require(a->y, has_elements, "y");
    require(a->gamma, p.affine(), "gamma");
    require(a->beta, p.affine(), "beta");
    require(a->running_mean, track, "running_mean");
    require(a->running_var, track, "running_var");
    require(a->save_mean, batch, "save_mean");
    require(a->save_invstd, batch, "save_invstd");
    const double f = a->exponential_average_factor;
    if (update && !(f >= 0 && f <= 1)) {
      report_error("exponential_average_factor must be in [0, 1], got " + std::to_string(f));
    }
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
    if (descriptor == nullptr || a == nullptr) report_error("problem or args is NULL");
    if (a->struct_size < sizeof(bnc_backward_args))
      report_error("bnc_backward_args.struct_size is too small");
    const problem p = checked_problem(descriptor);
    const bool batch = p.uses_batch_statistics();
    const bool has_elements = p.element_count() > 0;
    require(a->x, has_elements, "x");
    require(a->dy, has_elements, "dy");
    require(a->dx, has_elements, "dx");
    require(a->gamma, p.affine(), "gamma");
    require(a->dgamma, p.affine(), "dgamma");
    require(a->dbeta, p.affine(), "dbeta");
    require(a->save_mean, batch, "save_mean");
    require(a->save_invstd, batch, "save_invstd");
    require(a->running_mean, !batch, "running_mean");
    require(a->running_var, !batch, "running_var");
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
