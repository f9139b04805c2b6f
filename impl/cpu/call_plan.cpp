#include "call_plan.hpp"

#include <limits>

#include "core/error.hpp"
#include "core/problem.hpp"

namespace bnconform::cpu {

namespace {

void require(const void* pointer, bool needed, const char* name) {
  if (needed && pointer == nullptr)
    report_error(std::string(name) + " is NULL but the problem needs it");
}

std::string shape_text(const problem& p) {
  std::string s = "(";
  for (int i = 0; i < p.rank(); ++i) s += (i ? ", " : "") + std::to_string(p.shape()[i]);
  return s + ")";
}

geometry geometry_of(const problem& p) {
  geometry g;
  g.batch = p.batch();
  g.channels = p.channels();
  g.spatial = p.spatial_size();
  g.m = p.reduction_size();
  g.channels_innermost = p.layout() == layout::channels_last || g.spatial == 1;
  return g;
}

// The checks both directions share; returns the rejection or ok. `p` is the
// problem read by from_abi (which already rejects malformed descriptors).
rejection check_problem(const problem& p) {
  if (p.profile() != profile::pytorch) {
    return {BNC_STATUS_UNSUPPORTED, "the cpu kernel implements only the pytorch profile, not " +
                                        std::string(name_of(p.profile()))};
  }
  // PyTorch: "Expected more than 1 value per channel when training"; it applies
  // whenever batch statistics are used (semantics.md), checked before any write.
  if (p.uses_batch_statistics() && p.reduction_size() == 1) {
    return {
        BNC_STATUS_INVALID_PROBLEM,
        "Expected more than 1 value per channel when training, got input size " + shape_text(p)};
  }
  return {};
}

template <class Body>
rejection guarded(Body&& body) {
  try {
    return body();
  } catch (const error& e) {
    return {BNC_STATUS_BAD_ARGUMENT, e.what()};
  } catch (const std::bad_alloc&) {
    return {BNC_STATUS_INTERNAL_ERROR, "out of memory"};
  } catch (const std::exception& e) {
    return {BNC_STATUS_INTERNAL_ERROR, e.what()};
  }
}

}  // namespace

rejection validate_forward(const bnc_problem* descriptor, const bnc_forward_args* a,
                           forward_plan& plan) {
  return guarded([&]() -> rejection {
    if (descriptor == nullptr || a == nullptr) report_error("problem or args is NULL");
    if (a->struct_size < sizeof(bnc_forward_args))
      report_error("bnc_forward_args.struct_size is too small");
    const problem p = from_abi(*descriptor);
    const bool batch = p.uses_batch_statistics();
    const bool track = p.track_running_stats();
    const bool has_elements = p.element_count() > 0;
    require(a->x, has_elements, "x");
    require(a->y, has_elements, "y");
    require(a->gamma, p.affine(), "gamma");
    require(a->beta, p.affine(), "beta");
    require(a->running_mean, track, "running_mean");
    require(a->running_var, track, "running_var");
    require(a->save_mean, batch, "save_mean");
    require(a->save_invstd, batch, "save_invstd");
    require(a->num_batches_tracked, track, "num_batches_tracked");
    if (track && (*a->num_batches_tracked < 0 ||
                  *a->num_batches_tracked == std::numeric_limits<std::int64_t>::max())) {
      report_error("num_batches_tracked must be in [0, 2^63 - 1), got " +
                   std::to_string(*a->num_batches_tracked));
    }
    if (rejection r = check_problem(p); !r.ok()) return r;

    plan.g = geometry_of(p);
    plan.data = descriptor->data_dtype;
    plan.batch_statistics = batch;
    plan.update_running = track && p.mode() == mode::training;
    plan.affine = p.affine();
    plan.eps = p.eps();
    if (plan.update_running) {
      // The module's rule (semantics.md), as PyTorch computes it in Python (f64):
      // momentum, or 1 / num_batches_tracked after the increment.
      const std::int64_t count = *a->num_batches_tracked + 1;
      plan.factor = p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(count);
    }
    plan.args = a;
    return {};
  });
}

rejection validate_backward(const bnc_problem* descriptor, const bnc_backward_args* a,
                            backward_plan& plan) {
  return guarded([&]() -> rejection {
    if (descriptor == nullptr || a == nullptr) report_error("problem or args is NULL");
    if (a->struct_size < sizeof(bnc_backward_args))
      report_error("bnc_backward_args.struct_size is too small");
    const problem p = from_abi(*descriptor);
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
    if (rejection r = check_problem(p); !r.ok()) return r;

    plan.g = geometry_of(p);
    plan.data = descriptor->data_dtype;
    plan.batch_statistics = batch;
    plan.affine = p.affine();
    plan.eps = p.eps();
    plan.args = a;
    return {};
  });
}

}  // namespace bnconform::cpu
