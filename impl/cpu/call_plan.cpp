#include "call_plan.hpp"

#include "core/abi_rules.hpp"
#include "core/error.hpp"
#include "core/problem.hpp"

namespace bnconform::cpu {

namespace {

// The ABI's rules (bnconform/validate.h, docs/abi.md "Validating arguments") as a
// rejection.
rejection rejected(const std::optional<abi_violation>& v) {
  return v ? rejection{v->code, v->message} : rejection{};
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

// What the cpu kernel does not implement: checked after the ABI's malformed-call
// clauses and before its m == 1 clause. It implements every profile
// (docs/semantics.md, "Profiles"); momentum=None exists only in pytorch.
rejection check_supported(const problem& p) {
  if (p.profile() != profile::pytorch && !p.momentum()) {
    return {BNC_STATUS_UNSUPPORTED, "momentum=None: the " + std::string(name_of(p.profile())) +
                                        " profile has no cumulative average"};
  }
  return {};
}

// keras, tf-fused and flax normalize one value per channel (var = 0); pytorch and
// onnx reject it.
bool accepts_one_value(const problem& p) {
  return p.profile() == profile::keras || p.profile() == profile::tf_fused ||
         p.profile() == profile::flax;
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
    // keeps_module_state = 1: the counter is required and checked.
    if (rejection r = rejected(forward_abi_rules(descriptor, a, 1, BNC_STATUS_BAD_ARGUMENT));
        !r.ok()) {
      return r;
    }
    const problem p = from_abi(*descriptor);
    if (rejection r = check_supported(p); !r.ok()) return r;
    if (rejection r = rejected(forward_abi_rules(descriptor, a, 1, BNC_STATUS_INVALID_PROBLEM));
        !r.ok() && !accepts_one_value(p)) {
      return r;
    }
    const bool batch = p.uses_batch_statistics();
    const bool track = p.track_running_stats();

    plan.g = geometry_of(p);
    plan.data = descriptor->data_dtype;
    plan.batch_statistics = batch;
    plan.update_running = track && p.mode() == mode::training;
    plan.affine = p.affine();
    plan.eps = p.eps();
    if (plan.update_running) {
      // The profile's rule (semantics.md, "Profiles"), in f64. pytorch and tf-fused:
      // momentum (or 1 / num_batches_tracked after the increment) weighs the batch
      // value, as PyTorch computes it in Python; onnx, keras and flax: momentum
      // weighs the old value.
      const profile pf = p.profile();
      const std::int64_t count = *a->num_batches_tracked + 1;
      const double momentum = p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(count);
      const bool weighs_batch = pf == profile::pytorch || pf == profile::tf_fused;
      plan.take = weighs_batch ? momentum : 1 - momentum;
      plan.keep = weighs_batch ? 1 - momentum : momentum;
      plan.biased_running_var =
          pf == profile::onnx || pf == profile::keras || pf == profile::flax ||
          (pf == profile::tf_fused && plan.g.m == 1);  // tf-fused: m / max(m - 1, 1)
      plan.replace = pf == profile::tf_fused && momentum == 1;
      plan.empty_batch_gives_nan = accepts_one_value(p);
    }
    plan.args = a;
    return {};
  });
}

rejection validate_backward(const bnc_problem* descriptor, const bnc_backward_args* a,
                            backward_plan& plan) {
  return guarded([&]() -> rejection {
    if (rejection r = rejected(backward_abi_rules(descriptor, a, BNC_STATUS_BAD_ARGUMENT));
        !r.ok()) {
      return r;
    }
    const problem p = from_abi(*descriptor);
    if (rejection r = check_supported(p); !r.ok()) return r;
    if (rejection r = rejected(backward_abi_rules(descriptor, a, BNC_STATUS_INVALID_PROBLEM));
        !r.ok() && !accepts_one_value(p)) {
      return r;
    }
    const bool batch = p.uses_batch_statistics();

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
