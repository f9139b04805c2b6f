// The ABI glue: validate, run the selected variant, keep the module state, write
// the status and message. Exceptions never cross the ABI.
#include <climits>
#include <cstdio>
#include <new>
#include <string>

#include "bnconform/views.h"
#include "call_plan.hpp"
#include "cpu_kernel.hpp"
#include "distributed.hpp"
#include "variant.hpp"

namespace bnconform::cpu {

namespace {

bnc_status finish(char* message, std::size_t size, bnc_status code, const std::string& text) {
  if (message != nullptr && size > 0) std::snprintf(message, size, "%s", text.c_str());
  return code;
}

std::string ill_posed_note(const call_report& r) {
  if (r.ill_posed_channels == 0) return {};
  return "ill-posed: eps == 0 with zero variance in " + std::to_string(r.ill_posed_channels) +
         " channel(s), first " + std::to_string(r.first_ill_posed) +
         "; outputs there are implementation-defined";
}

template <class Body>
bnc_status guarded(char* message, std::size_t size, const Body& body) {
  if (message != nullptr && size > 0) message[0] = '\0';
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return finish(message, size, BNC_STATUS_INTERNAL_ERROR, "out of memory");
  } catch (const std::exception& e) {
    return finish(message, size, BNC_STATUS_INTERNAL_ERROR, e.what());
  } catch (...) {
    return finish(message, size, BNC_STATUS_INTERNAL_ERROR, "unknown exception");
  }
}

bnc_status dense_forward(void*, const bnc_problem* problem, const bnc_forward_args* args,
                         char* message, std::size_t size) {
  return guarded(message, size, [&] {
    forward_plan plan;
    if (const rejection r = validate_forward(problem, args, plan); !r.ok()) {
      return finish(message, size, r.code, r.message);
    }
    if (args->communicator != nullptr && problem->mode == BNC_MODE_TRAINING) {
      const bnc_status s = distributed_forward(problem, plan, message, size);
      if (s == BNC_STATUS_OK && plan.update_running) ++*args->num_batches_tracked;
      return s;
    }
    const call_report report = active_variant().forward(plan);
    // The module state: PyTorch's module counts every training batch with running
    // statistics, the empty one included (semantics.md); the factor was derived
    // from the count after this increment (call_plan.cpp).
    if (plan.update_running) ++*args->num_batches_tracked;
    return finish(message, size, BNC_STATUS_OK, ill_posed_note(report));
  });
}

bnc_status dense_backward(void*, const bnc_problem* problem, const bnc_backward_args* args,
                          char* message, std::size_t size) {
  return guarded(message, size, [&] {
    backward_plan plan;
    if (const rejection r = validate_backward(problem, args, plan); !r.ok()) {
      return finish(message, size, r.code, r.message);
    }
    if (args->communicator != nullptr && problem->mode == BNC_MODE_TRAINING) {
      return distributed_backward(problem, plan, message, size);
    }
    const call_report report = active_variant().backward(plan);
    return finish(message, size, BNC_STATUS_OK, ill_posed_note(report));
  });
}

// Any view, in place or not. A view dense in the problem's layout goes straight to
// the dense code; any other is copied to and from the dense layout around it
// (bnconform/views.h), which costs one extra pass over each data tensor.
bnc_status forward_entry(void* context, const bnc_problem* problem, const bnc_forward_args* args,
                         char* message, std::size_t size) {
  return bnc_forward_densely(dense_forward, context, 1, problem, args, message, size);
}

bnc_status backward_entry(void* context, const bnc_problem* problem, const bnc_backward_args* args,
                          char* message, std::size_t size) {
  return bnc_backward_densely(dense_backward, context, problem, args, message, size);
}

constexpr std::uint32_t features = BNC_FEATURE_ANY_STRIDES | BNC_FEATURE_IN_PLACE_FORWARD |
                                   BNC_FEATURE_IN_PLACE_BACKWARD | BNC_FEATURE_DISTRIBUTED_TRAINING;

constexpr bnc_capabilities capabilities = {
    BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL,
    BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32) | BNC_BIT(BNC_DTYPE_F16) |
        BNC_BIT(BNC_DTYPE_BF16),
    BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
    BNC_BIT(BNC_PROFILE_PYTORCH) | BNC_BIT(BNC_PROFILE_ONNX) | BNC_BIT(BNC_PROFILE_KERAS) |
        BNC_BIT(BNC_PROFILE_TF_FUSED) | BNC_BIT(BNC_PROFILE_FLAX),
    2,
    // Any rank: the spatial extents only ever appear as their product S.
    INT32_MAX, BNC_MEMORY_HOST, 1};

const bnc_kernel description = {BNC_ABI_VERSION, sizeof(bnc_kernel), "cpu",
                                "0.1.0",         capabilities,       nullptr,
                                forward_entry,   backward_entry,     features};

}  // namespace

const bnc_kernel* cpu_kernel() { return &description; }

const char* variant_name() { return active_variant().name; }

}  // namespace bnconform::cpu
