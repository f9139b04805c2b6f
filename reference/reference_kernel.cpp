#include "reference_kernel.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "bnconform/views.h"
#include "core/abi_rules.hpp"
#include "core/error.hpp"
#include "reference.hpp"

namespace bnconform::reference {

namespace {

void write_message(char* buffer, std::size_t size, const std::string& text) {
  if (buffer == nullptr || size == 0) return;
  std::snprintf(buffer, size, "%s", text.c_str());
}

bnc_status fail(char* buffer, std::size_t size, bnc_status code, const std::string& text) {
  write_message(buffer, size, text);
  return code;
}

std::vector<double> read_if(const void* p, bool present, dtype t, std::int64_t count) {
  return present ? read_values(p, t, count) : std::vector<double>{};
}

std::string ill_posed_note(const std::vector<std::int64_t>& channels) {
  if (channels.empty()) return {};
  return "ill-posed: eps == 0 with zero variance in " + std::to_string(channels.size()) +
         " channel(s), first " + std::to_string(channels.front()) +
         "; outputs there are implementation-defined";
}

// The body of both entry points: exceptions never cross the ABI.
template <class F>
bnc_status guarded(char* message, std::size_t size, F&& body) {
  if (message != nullptr && size > 0) message[0] = '\0';
  try {
    return body();
  } catch (const error& e) {
    return fail(message, size, BNC_STATUS_BAD_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(message, size, BNC_STATUS_INTERNAL_ERROR, "out of memory");
  } catch (const std::exception& e) {
    return fail(message, size, BNC_STATUS_INTERNAL_ERROR, e.what());
  } catch (...) {
    return fail(message, size, BNC_STATUS_INTERNAL_ERROR, "unknown exception");
  }
}

// What a kernel's context holds: its precision, and whether it may go higher.
struct precision_choice {
  int bits;
  bool escalates;  // retry at 512 and 1024 bits when the self-check asks for more
};

// Runs `compute` at the kernel's precision and, for the escalating kernel, again at
// each higher supported precision while the self-check refuses to vouch (inputs
// spanning too many binary orders, outputs not settled): the answer is then still
// the correctly rounded one, only slower to get.
template <class Compute>
auto with_enough_bits(void* context, Compute compute) {
  const auto& choice = *static_cast<const precision_choice*>(context);
  auto r = compute(choice.bits);
  if (!choice.escalates) return r;
  for (const int bits : supported_precisions()) {
    if (bits <= choice.bits || !r.needs_more_bits) continue;
    r = compute(bits);
  }
  return r;
}

// A distributed training call (docs/abi.md, "Distributed calls"): the reference
// gathers the whole batch from every rank, computes the global problem exactly,
// and keeps its own rank's shard of y or dx. Simple and exact, and as costly in
// memory as the global batch: it is the oracle, not a model of a kernel.
class whole_batch {
 public:
  whole_batch(const bnc_communicator* comm, const problem& local) : comm_(comm), local_(local) {}
  bool distributed() const { return comm_ != nullptr && local_.mode() == mode::training; }

  // Every rank's N; false when a collective failed.
  bool gather_batches() {
    const std::int64_t n = local_.batch();
    batches_.assign(static_cast<std::size_t>(comm_->size), 0);
    if (comm_->all_gather(comm_->context, &n, batches_.data(), 1, BNC_ELEMENT_I64) !=
        BNC_STATUS_OK) {
      return false;
    }
    for (int r = 0; r < comm_->size; ++r) {
      const std::int64_t b = batches_[static_cast<std::size_t>(r)];
      if (r < comm_->rank) first_ += b;
      total_ += b;
      widest_ = std::max(widest_, b);
    }
    return true;
  }
  problem global() const {
    std::vector<std::int64_t> shape(local_.shape().begin(), local_.shape().end());
    shape[0] = total_;
    return local_.with_shape(std::move(shape));
  }
  // A data tensor of every rank, end to end (each rank sends its values padded to
  // the widest shard); false when a collective failed.
  bool gather(const std::vector<double>& mine, std::vector<double>& all) const {
    const std::int64_t sample = local_.channels() * local_.spatial_size();
    const std::int64_t width = widest_ * sample;
    std::vector<double> sent(static_cast<std::size_t>(width), 0.0);
    std::copy(mine.begin(), mine.end(), sent.begin());
    std::vector<double> received(static_cast<std::size_t>(width * comm_->size));
    if (comm_->all_gather(comm_->context, sent.data(), received.data(), width, BNC_ELEMENT_F64) !=
        BNC_STATUS_OK) {
      return false;
    }
    all.clear();
    for (int r = 0; r < comm_->size; ++r) {
      const auto from = received.begin() + r * width;
      all.insert(all.end(), from, from + batches_[static_cast<std::size_t>(r)] * sample);
    }
    return true;
  }
  // This rank's part of a data tensor of the global problem.
  std::vector<double> mine(const std::vector<double>& all) const {
    const std::int64_t sample = local_.channels() * local_.spatial_size();
    const auto from = all.begin() + first_ * sample;
    return {from, from + local_.batch() * sample};
  }

 private:
  const bnc_communicator* comm_;
  const problem& local_;
  std::vector<std::int64_t> batches_;
  std::int64_t first_ = 0, total_ = 0, widest_ = 0;
};

constexpr const char* collective_failed = "a collective failed: a rank left the group";

bnc_status dense_forward(void* context, const bnc_problem* descriptor, const bnc_forward_args* a,
                         char* message, std::size_t size) {
  return guarded(message, size, [&]() -> bnc_status {
    // The ABI's malformed-call rules (bnconform/validate.h); the reference keeps the
    // module state. The rules of semantics.md (the profile, m == 1, the counter) are
    // the engine's, checked again in validate(), which also serves callers that do
    // not come through the ABI.
    if (auto v = forward_abi_rules(descriptor, a, 1, BNC_STATUS_BAD_ARGUMENT)) {
      return fail(message, size, v->code, v->message);
    }
    const problem local = from_abi(*descriptor);
    whole_batch world(a->communicator, local);
    std::vector<double> x =
        read_if(a->x, local.element_count() > 0, local.data_type(), local.element_count());
    if (world.distributed() && (!world.gather_batches() || !world.gather(x, x))) {
      return fail(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);
    }
    const problem p = world.distributed() ? world.global() : local;
    const bool batch = p.uses_batch_statistics();
    const bool track = p.track_running_stats();
    const bool has_elements = local.element_count() > 0;

    const dtype st = p.stats_type();
    const std::int64_t c = p.channels();
    call_inputs in;
    in.x = std::move(x);
    in.gamma = read_if(a->gamma, p.affine(), st, c);
    in.beta = read_if(a->beta, p.affine(), st, c);
    in.running_mean = read_if(a->running_mean, track, st, c);
    in.running_var = read_if(a->running_var, track, st, c);
    in.num_batches_tracked = track ? *a->num_batches_tracked : 0;

    const forward_result r =
        with_enough_bits(context, [&](int bits) { return forward(p, in, {bits}); });
    if (!r.status.ok()) return fail(message, size, r.status.code, r.status.message);
    if (has_elements) {
      write_values(a->y, p.data_type(),
                   world.distributed() ? world.mine(r.y.rounded) : r.y.rounded);
    }
    if (batch) {
      write_values(a->save_mean, st, r.save_mean.rounded);
      write_values(a->save_invstd, st, r.save_invstd.rounded);
    }
    if (track && p.mode() == mode::training) {
      write_values(a->running_mean, st, r.running_mean.rounded);
      write_values(a->running_var, st, r.running_var.rounded);
      *a->num_batches_tracked = r.num_batches_tracked;
    }
    write_message(message, size, ill_posed_note(r.ill_posed_channels));
    return BNC_STATUS_OK;
  });
}

bnc_status dense_backward(void* context, const bnc_problem* descriptor, const bnc_backward_args* a,
                          char* message, std::size_t size) {
  return guarded(message, size, [&]() -> bnc_status {
    // The ABI's malformed-call rules (bnconform/validate.h). The reference
    // differentiates the exact forward at x: in training it recomputes the batch
    // statistics exactly rather than reading the rounded save_mean and save_invstd
    // (which the ABI still requires).
    if (auto v = backward_abi_rules(descriptor, a, BNC_STATUS_BAD_ARGUMENT)) {
      return fail(message, size, v->code, v->message);
    }
    const problem local = from_abi(*descriptor);
    whole_batch world(a->communicator, local);
    const bool local_elements = local.element_count() > 0;
    std::vector<double> x = read_if(a->x, local_elements, local.data_type(), local.element_count());
    std::vector<double> dy =
        read_if(a->dy, local_elements, local.data_type(), local.element_count());
    if (world.distributed() &&
        (!world.gather_batches() || !world.gather(x, x) || !world.gather(dy, dy))) {
      return fail(message, size, BNC_STATUS_INTERNAL_ERROR, collective_failed);
    }
    const problem p = world.distributed() ? world.global() : local;
    const bool batch = p.uses_batch_statistics();
    const bool has_elements = local_elements;

    const dtype st = p.stats_type();
    const std::int64_t c = p.channels();
    call_inputs in;
    in.x = std::move(x);
    in.dy = std::move(dy);
    in.gamma = read_if(a->gamma, p.affine(), st, c);
    in.beta =
        p.affine() ? std::vector<double>(static_cast<std::size_t>(c), 0.0) : std::vector<double>{};
    // Sizes must match the problem for validation; eval reads the running values.
    in.running_mean = p.track_running_stats()
                          ? (batch ? std::vector<double>(static_cast<std::size_t>(c), 0.0)
                                   : read_values(a->running_mean, st, c))
                          : std::vector<double>{};
    in.running_var = p.track_running_stats()
                         ? (batch ? std::vector<double>(static_cast<std::size_t>(c), 1.0)
                                  : read_values(a->running_var, st, c))
                         : std::vector<double>{};

    const backward_result r =
        with_enough_bits(context, [&](int bits) { return backward(p, in, {bits}); });
    if (!r.status.ok()) return fail(message, size, r.status.code, r.status.message);
    if (has_elements) {
      write_values(a->dx, p.data_type(),
                   world.distributed() ? world.mine(r.dx.rounded) : r.dx.rounded);
    }
    if (p.affine()) {
      write_values(a->dgamma, st, r.dgamma.rounded);
      write_values(a->dbeta, st, r.dbeta.rounded);
    }
    write_message(message, size, ill_posed_note(r.ill_posed_channels));
    return BNC_STATUS_OK;
  });
}

// Any view, in place or not: the data tensors are copied to and from the dense
// layout around the exact computation (bnconform/views.h).
bnc_status forward_entry(void* context, const bnc_problem* descriptor, const bnc_forward_args* a,
                         char* message, std::size_t size) {
  return bnc_forward_densely(dense_forward, context, 1, descriptor, a, message, size);
}

bnc_status backward_entry(void* context, const bnc_problem* descriptor, const bnc_backward_args* a,
                          char* message, std::size_t size) {
  return bnc_backward_densely(dense_backward, context, descriptor, a, message, size);
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
    INT32_MAX,
    BNC_MEMORY_HOST,
    1};

precision_choice precision_128{128, false}, precision_256{256, false}, precision_512{512, false},
    precision_1024{1024, false}, precision_256_escalating{256, true};

constexpr bnc_kernel make(const char* name, precision_choice* bits) {
  return {BNC_ABI_VERSION, sizeof(bnc_kernel), name,    "0.1.0", capabilities, bits,
          forward_entry,   backward_entry,     features};
}

const bnc_kernel kernels[] = {
    make("reference@128", &precision_128), make("reference", &precision_256),
    make("reference@512", &precision_512), make("reference@1024", &precision_1024)};
// Named like the 256-bit kernel: its outputs are the same wherever that one answers.
const bnc_kernel escalating = make("reference", &precision_256_escalating);

}  // namespace

const bnc_kernel* reference_kernel(int precision_bits) {
  for (const bnc_kernel& k : kernels) {
    if (static_cast<const precision_choice*>(k.context)->bits == precision_bits) return &k;
  }
  return nullptr;
}

const bnc_kernel* escalating_reference_kernel() { return &escalating; }

}  // namespace bnconform::reference
