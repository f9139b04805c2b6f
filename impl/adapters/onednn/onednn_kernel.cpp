#include "onednn_kernel.hpp"

#include <bit>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.hpp"
#include "impl/adapters/adapter_call.hpp"

namespace bnconform::onednn {

namespace {

using adapters::call_failure;
using tag = dnnl::memory::format_tag;
using flags = dnnl::normalization_flags;

constexpr int max_rank = 5;  // oneDNN's batch normalization takes 0 to 3 spatial dimensions

struct runtime {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

runtime& shared_runtime() {
  static runtime r;
  return r;
}

dnnl::memory::data_type data_type_of(dtype t) {
  switch (t) {
    case dtype::f32: return dnnl::memory::data_type::f32;
    case dtype::bf16: return dnnl::memory::data_type::bf16;
    case dtype::f16: return dnnl::memory::data_type::f16;
    case dtype::f64: break;
  }
  throw call_failure(BNC_STATUS_UNSUPPORTED, "oneDNN has no f64 batch normalization");
}

// The tensor in the problem's layout, by explicit strides: channels-first is
// row-major over (N, C, S...), channels-last row-major over (N, S..., C).
dnnl::memory::desc data_desc(const problem& p) {
  dnnl::memory::dims dims(p.shape().begin(), p.shape().end());
  const std::vector<std::int64_t> element_strides = p.element_strides();
  const dnnl::memory::dims strides(element_strides.begin(), element_strides.end());
  return dnnl::memory::desc(dims, data_type_of(p.data_type()), strides);
}

// The format the primitive computes in. Plain: the caller's layout itself.
// Blocked: channels in blocks of 16 (nCw16c, nChw16c, nCdhw16c), the format a
// oneDNN network keeps its activations in; oneDNN 2.6 has none for rank 2, which
// stays nc. The caller's tensors are reordered into it and back (exact copies).
enum class format { plain, blocked };

dnnl::memory::desc compute_desc(const problem& p, format f) {
  if (f == format::plain || p.rank() == 2) return data_desc(p);
  const dnnl::memory::dims dims(p.shape().begin(), p.shape().end());
  const tag t = p.rank() == 3 ? tag::aBc16b : p.rank() == 4 ? tag::aBcd16b : tag::aBcde16b;
  return dnnl::memory::desc(dims, data_type_of(p.data_type()), t);
}

// oneDNN 2.6 takes eps as a float: the peer normalizes with eps rounded to f32.
float eps_of(const problem& p) { return static_cast<float>(p.eps()); }

flags scale_shift(const problem& p) {
  return p.affine() ? (flags::use_scale | flags::use_shift) : flags::none;
}

// Primitive descriptors and primitives are expensive to create (JIT); they are
// kept per problem geometry and flags, so repeated calls (the benchmark) pay once.
struct forward_entry {
  dnnl::batch_normalization_forward::primitive_desc pd;
  dnnl::batch_normalization_forward primitive;
};
struct backward_entry {
  dnnl::batch_normalization_backward::primitive_desc pd;
  dnnl::batch_normalization_backward primitive;
};

std::string cache_key(const problem& p, format fmt, int direction, unsigned f) {
  std::string key = std::to_string(static_cast<int>(fmt)) + ':' + std::to_string(direction) + ':' +
                    std::to_string(f) + ':' + std::string(name_of(p.data_type())) + ':' +
                    std::string(name_of(p.layout())) + ':' +
                    std::to_string(std::bit_cast<std::uint32_t>(eps_of(p)));
  for (std::int64_t e : p.shape()) key += 'x' + std::to_string(e);
  return key;
}

std::mutex cache_mutex;
std::map<std::string, forward_entry> forward_cache;
std::map<std::string, backward_entry> backward_cache;

[[noreturn]] void unsupported(const problem& p, const dnnl::error& e) {
  throw call_failure(BNC_STATUS_UNSUPPORTED, "oneDNN implements no batch normalization for " +
                                                 p.to_string() + ": " + e.what());
}

forward_entry& forward_primitive(const problem& p, format fmt, dnnl::prop_kind kind, flags f) {
  const std::string key = cache_key(p, fmt, static_cast<int>(kind), static_cast<unsigned>(f));
  std::lock_guard lock(cache_mutex);
  auto it = forward_cache.find(key);
  if (it != forward_cache.end()) return it->second;
  try {
    const dnnl::batch_normalization_forward::desc d(kind, compute_desc(p, fmt), eps_of(p), f);
    dnnl::batch_normalization_forward::primitive_desc pd(d, shared_runtime().engine);
    dnnl::batch_normalization_forward primitive(pd);
    return forward_cache.emplace(key, forward_entry{pd, primitive}).first->second;
  } catch (const dnnl::error& e) {
    unsupported(p, e);
  }
}

backward_entry& backward_primitive(const problem& p, format fmt, dnnl::prop_kind kind, flags f) {
  const std::string key = cache_key(p, fmt, static_cast<int>(kind), static_cast<unsigned>(f));
  std::lock_guard lock(cache_mutex);
  auto it = backward_cache.find(key);
  if (it != backward_cache.end()) return it->second;
  try {
    const dnnl::memory::desc md = compute_desc(p, fmt);
    // The backward primitive descriptor needs a forward hint of the same kind.
    const dnnl::batch_normalization_forward::desc hint_d(dnnl::prop_kind::forward_training, md,
                                                         eps_of(p), f);
    dnnl::batch_normalization_forward::primitive_desc hint(hint_d, shared_runtime().engine);
    const dnnl::batch_normalization_backward::desc d(kind, md, md, eps_of(p), f);
    dnnl::batch_normalization_backward::primitive_desc pd(d, shared_runtime().engine, hint);
    dnnl::batch_normalization_backward primitive(pd);
    return backward_cache.emplace(key, backward_entry{pd, primitive}).first->second;
  } catch (const dnnl::error& e) {
    unsupported(p, e);
  }
}

dnnl::memory wrap(const dnnl::memory::desc& d, const void* p) {
  // oneDNN takes a non-const handle for inputs as well; it only reads them.
  return dnnl::memory(d, shared_runtime().engine, const_cast<void*>(p));
}

// A tensor of the caller's in the primitive's format `md`: its buffer itself, or a
// reordered copy. An empty tensor has nothing to copy.
dnnl::memory input_in(const dnnl::memory::desc& md, const problem& p, const void* data) {
  dnnl::memory plain = wrap(data_desc(p), data);
  if (md == plain.get_desc()) return plain;
  dnnl::memory copy(md, shared_runtime().engine);
  if (p.element_count() > 0)
    dnnl::reorder(plain, copy).execute(shared_runtime().stream, plain, copy);
  return copy;
}

// Where the primitive writes an output of the caller's: its buffer itself, or
// memory in `md` that deliver() reorders into it.
dnnl::memory output_in(const dnnl::memory::desc& md, const problem& p, void* data) {
  if (md == data_desc(p)) return wrap(md, data);
  return dnnl::memory(md, shared_runtime().engine);
}

void deliver(dnnl::memory computed, const problem& p, void* data) {
  if (computed.get_data_handle() == data || p.element_count() == 0) return;
  dnnl::memory plain = wrap(data_desc(p), data);
  dnnl::reorder(computed, plain).execute(shared_runtime().stream, computed, plain);
}

dnnl::memory::desc vector_desc(const problem& p) {
  return dnnl::memory::desc({p.channels()}, dnnl::memory::data_type::f32, tag::a);
}

std::vector<double> to_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// The kernel a call came to: which format it computes in, and its description.
struct variant {
  format fmt;
  const bnc_kernel* (*description)();
};

// What the description does not declare is refused before the peer is called.
void require_declared(const problem& p, const variant& v) {
  if ((v.description()->capabilities.dtypes & BNC_BIT(to_abi(p.data_type()))) == 0) {
    throw call_failure(BNC_STATUS_UNSUPPORTED, "this machine's oneDNN implements no " +
                                                   std::string(name_of(p.data_type())) +
                                                   " batch normalization");
  }
  if (p.rank() > max_rank) {
    throw call_failure(BNC_STATUS_UNSUPPORTED, "oneDNN's batch normalization takes rank 2 to " +
                                                   std::to_string(max_rank) + ", not " +
                                                   std::to_string(p.rank()));
  }
}

bnc_status forward(const problem& p, const bnc_forward_args& a, const variant& v) {
  require_declared(p, v);
  const bool batch = p.uses_batch_statistics();
  const flags f = batch ? scale_shift(p) : (scale_shift(p) | flags::use_global_stats);
  // Batch statistics are outputs of forward_training only; inference with global
  // statistics reads the running ones.
  const dnnl::prop_kind kind =
      batch ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  forward_entry& e = forward_primitive(p, v.fmt, kind, f);
  const dnnl::memory::desc md = compute_desc(p, v.fmt);
  const dnnl::memory::desc vd = vector_desc(p);
  const auto channels = static_cast<std::size_t>(p.channels());
  // NaN until oneDNN writes it: what it leaves unwritten (an empty batch) must not
  // turn into an invented variance in save_invstd and the running statistics.
  std::vector<float> variance(batch ? channels : 0, std::numeric_limits<float>::quiet_NaN());
  const dnnl::memory y = output_in(md, p, a.y);
  std::unordered_map<int, dnnl::memory> arguments{{DNNL_ARG_SRC, input_in(md, p, a.x)},
                                                  {DNNL_ARG_DST, y}};
  if (p.affine()) {
    arguments.emplace(DNNL_ARG_SCALE, wrap(vd, a.gamma));
    arguments.emplace(DNNL_ARG_SHIFT, wrap(vd, a.beta));
  }
  if (batch) {
    arguments.emplace(DNNL_ARG_MEAN, wrap(vd, a.save_mean));
    arguments.emplace(DNNL_ARG_VARIANCE, wrap(vd, variance.data()));
  } else {
    arguments.emplace(DNNL_ARG_MEAN, wrap(vd, a.running_mean));
    arguments.emplace(DNNL_ARG_VARIANCE, wrap(vd, a.running_var));
  }
  runtime& r = shared_runtime();
  e.primitive.execute(r.stream, arguments);
  deliver(y, p, a.y);
  r.stream.wait();
  if (!batch) return BNC_STATUS_OK;

  // oneDNN returns the biased variance; save_invstd = 1 / sqrt(var + eps) is
  // computed here (in double, rounded once), and so are the running statistics.
  const std::vector<double> var = to_doubles(variance);
  std::vector<double> invstd(channels);
  for (std::size_t c = 0; c < channels; ++c) invstd[c] = 1.0 / std::sqrt(var[c] + p.eps());
  write_values(a.save_invstd, p.stats_type(), invstd);
  if (p.mode() == mode::training && p.track_running_stats()) {
    const std::vector<double> mean = read_values(a.save_mean, p.stats_type(), p.channels());
    adapters::update_running_statistics(p, a.exponential_average_factor, mean.data(), var.data(),
                                        a.running_mean, a.running_var);
  }
  return BNC_STATUS_OK;
}

bnc_status backward(const problem& p, const bnc_backward_args& a, const variant& v) {
  require_declared(p, v);
  const bool batch = p.uses_batch_statistics();
  const flags f = batch ? scale_shift(p) : (scale_shift(p) | flags::use_global_stats);
  // prop_kind::backward also computes the scale and shift gradients.
  const dnnl::prop_kind kind =
      p.affine() ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
  backward_entry& e = backward_primitive(p, v.fmt, kind, f);
  const dnnl::memory::desc md = compute_desc(p, v.fmt);
  const dnnl::memory::desc vd = vector_desc(p);
  const auto channels = static_cast<std::size_t>(p.channels());
  // oneDNN's backward reads the variance; the ABI hands over 1 / sqrt(var + eps).
  // var = 1 / invstd^2 - eps, in double, rounded once to f32 (see ../README.md).
  std::vector<float> variance;
  if (batch) {
    const std::vector<double> invstd = read_values(a.save_invstd, p.stats_type(), p.channels());
    variance.resize(channels);
    for (std::size_t c = 0; c < channels; ++c)
      variance[c] = static_cast<float>(1.0 / (invstd[c] * invstd[c]) - p.eps());
  }
  // The shift does not enter the gradient, but oneDNN's backward with use_shift
  // expects DNNL_ARG_SHIFT to be passed.
  std::vector<float> zero_shift(p.affine() ? channels : 0, 0.0f);
  const dnnl::memory dx = output_in(md, p, a.dx);
  std::unordered_map<int, dnnl::memory> arguments{{DNNL_ARG_SRC, input_in(md, p, a.x)},
                                                  {DNNL_ARG_DIFF_DST, input_in(md, p, a.dy)},
                                                  {DNNL_ARG_DIFF_SRC, dx}};
  if (batch) {
    arguments.emplace(DNNL_ARG_MEAN, wrap(vd, a.save_mean));
    arguments.emplace(DNNL_ARG_VARIANCE, wrap(vd, variance.data()));
  } else {
    arguments.emplace(DNNL_ARG_MEAN, wrap(vd, a.running_mean));
    arguments.emplace(DNNL_ARG_VARIANCE, wrap(vd, a.running_var));
  }
  if (p.affine()) {
    arguments.emplace(DNNL_ARG_SCALE, wrap(vd, a.gamma));
    arguments.emplace(DNNL_ARG_SHIFT, wrap(vd, zero_shift.data()));
    arguments.emplace(DNNL_ARG_DIFF_SCALE, wrap(vd, a.dgamma));
    arguments.emplace(DNNL_ARG_DIFF_SHIFT, wrap(vd, a.dbeta));
  }
  runtime& r = shared_runtime();
  e.primitive.execute(r.stream, arguments);
  deliver(dx, p, a.dx);
  r.stream.wait();
  return BNC_STATUS_OK;
}

bnc_status forward_entry_point(void* context, const bnc_problem* descriptor,
                               const bnc_forward_args* args, char* message, std::size_t size) {
  return adapters::guarded(message, size, [&]() -> bnc_status {
    const problem p = adapters::checked_forward(descriptor, args);
    return forward(p, *args, *static_cast<const variant*>(context));
  });
}

bnc_status backward_entry_point(void* context, const bnc_problem* descriptor,
                                const bnc_backward_args* args, char* message, std::size_t size) {
  return adapters::guarded(message, size, [&]() -> bnc_status {
    const problem p = adapters::checked_backward(descriptor, args);
    return backward(p, *args, *static_cast<const variant*>(context));
  });
}

// Whether this machine's oneDNN implements forward training and backward for t
// (bf16 and f16 need particular instruction sets).
bool implements(dtype t, format fmt) {
  const problem p(problem::fields{.shape = {2, 3, 2, 2}, .data_type = t});
  try {
    forward_primitive(p, fmt, dnnl::prop_kind::forward_training, scale_shift(p));
    forward_primitive(p, fmt, dnnl::prop_kind::forward_inference,
                      scale_shift(p) | flags::use_global_stats);
    backward_primitive(p, fmt, dnnl::prop_kind::backward, scale_shift(p));
    return true;
  } catch (const call_failure&) {
    return false;
  }
}

std::string version_text() {
  const dnnl_version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch);
}

bnc_kernel describe(const char* name, variant* v) {
  static const std::string version = version_text();
  std::uint32_t dtypes = 0;
  for (dtype t : {dtype::f32, dtype::bf16, dtype::f16}) {
    if (implements(t, v->fmt)) dtypes |= BNC_BIT(to_abi(t));
  }
  bnc_capabilities caps{};
  caps.operations = BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
                    BNC_OP_BACKWARD_EVAL;
  caps.dtypes = dtypes;
  caps.layouts = BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST);
  caps.profiles = BNC_BIT(BNC_PROFILE_PYTORCH);
  caps.min_rank = 2;
  caps.max_rank = max_rank;
  caps.memory = BNC_MEMORY_HOST;
  caps.keeps_module_state = 0;
  return {BNC_ABI_VERSION,     sizeof(bnc_kernel),   name, version.c_str(), caps, v,
          forward_entry_point, backward_entry_point, 0};
}

variant plain_variant{format::plain, onednn_kernel};
variant blocked_variant{format::blocked, onednn_blocked_kernel};

}  // namespace

const bnc_kernel* onednn_kernel() {
  static const bnc_kernel description = describe("onednn", &plain_variant);
  return &description;
}

const bnc_kernel* onednn_blocked_kernel() {
  static const bnc_kernel description = describe("onednn-blocked", &blocked_variant);
  return &description;
}

}  // namespace bnconform::onednn
