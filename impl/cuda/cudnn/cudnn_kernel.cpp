// The cuDNN adapter. Every rule of semantics.md that cuDNN does not enforce is
// checked here first, so a rejected call never reaches cuDNN and writes nothing:
// m == 1 with batch statistics (cuDNN would divide by m - 1 = 0), tensors beyond
// cuDNN's 32-bit descriptors, the empty batch (cuDNN rejects zero extents; the
// adapter writes the documented results itself).
//
// Shapes: cuDNN's legacy calls take 4-d or 5-d descriptors; every rank maps onto
// a 4-d one, (N, C, S, 1) with S = S1 * ... * Sk, since the spatial dimensions are
// reduced together. Channels-last is the same dims with NHWC strides.
#include "cudnn_kernel.hpp"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/abi_rules.hpp"
#include "core/error.hpp"
#include "core/problem.hpp"

namespace bnconform::cudnn {

namespace {

struct rejected {
  bnc_status code;
  std::string message;
};

[[noreturn]] void reject(bnc_status code, std::string message) {
  throw rejected{code, std::move(message)};
}

void check(cudnnStatus_t s, const char* what) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  const bool unsupported = s == CUDNN_STATUS_NOT_SUPPORTED;
  reject(unsupported ? BNC_STATUS_UNSUPPORTED : BNC_STATUS_INTERNAL_ERROR,
         std::string(what) + ": " + cudnnGetErrorString(s));
}

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  reject(BNC_STATUS_INTERNAL_ERROR,
         std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

// The ABI's clauses (bnconform/validate.h, docs/abi.md "Validating arguments"):
// the first violated one rejects the call.
void enforce(const std::optional<abi_violation>& v) {
  if (v) reject(v->code, v->message);
}

// One handle for the process, created on first use (cudnnCreate is slow) and kept:
// destroying it at exit races the CUDA runtime's own teardown.
cudnnHandle_t handle() {
  static std::mutex guard;
  static cudnnHandle_t h = nullptr;
  std::lock_guard<std::mutex> lock(guard);
  if (h == nullptr) check(cudnnCreate(&h), "cudnnCreate");
  return h;
}

class tensor_descriptor {
 public:
  tensor_descriptor() { check(cudnnCreateTensorDescriptor(&d_), "cudnnCreateTensorDescriptor"); }
  ~tensor_descriptor() { cudnnDestroyTensorDescriptor(d_); }
  tensor_descriptor(const tensor_descriptor&) = delete;
  tensor_descriptor& operator=(const tensor_descriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

// Device memory of one call (gamma = 1 and beta = 0 without affine, dgamma and
// dbeta nobody asked for).
class device_buffer {
 public:
  explicit device_buffer(std::size_t bytes) { check(cudaMalloc(&p_, bytes), "cudaMalloc"); }
  ~device_buffer() { cudaFree(p_); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  void* get() const { return p_; }

 private:
  void* p_ = nullptr;
};

cudnnDataType_t cudnn_type(dtype t) {
  switch (t) {
    case dtype::f64: return CUDNN_DATA_DOUBLE;
    case dtype::f32: return CUDNN_DATA_FLOAT;
    case dtype::f16: return CUDNN_DATA_HALF;
    case dtype::bf16: return CUDNN_DATA_BFLOAT16;
  }
  return CUDNN_DATA_FLOAT;
}

int narrow(std::int64_t v, const char* what) {
  if (v > INT_MAX) {
    reject(BNC_STATUS_UNSUPPORTED, std::string(what) + " " + std::to_string(v) +
                                       " exceeds cuDNN's 32-bit tensor descriptors");
  }
  return static_cast<int>(v);
}

struct descriptors {
  tensor_descriptor data, stats;
};

void describe(const problem& p, descriptors& d) {
  const int n = narrow(p.batch(), "N");
  const int c = narrow(p.channels(), "C");
  const int s = narrow(p.spatial_size(), "spatial size");
  (void)narrow(p.element_count(), "element count");
  const int dims[4] = {n, c, s, 1};
  int strides[4];
  if (p.layout() == layout::channels_first) {
    strides[0] = c * s, strides[1] = s, strides[2] = 1, strides[3] = 1;
  } else {
    strides[0] = s * c, strides[1] = 1, strides[2] = c, strides[3] = c;
  }
  check(cudnnSetTensorNdDescriptor(d.data.get(), cudnn_type(p.data_type()), 4, dims, strides),
        "cudnnSetTensorNdDescriptor");
  check(cudnnDeriveBNTensorDescriptor(d.stats.get(), d.data.get(), CUDNN_BATCHNORM_SPATIAL),
        "cudnnDeriveBNTensorDescriptor");
}

problem checked_problem(const bnc_problem* descriptor, bool backward) {
  problem p = from_abi(*descriptor);
  if (p.profile() != profile::pytorch)
    reject(BNC_STATUS_UNSUPPORTED, "the cuDNN adapter implements only the pytorch profile");
  if (p.data_type() == dtype::bf16)
    reject(BNC_STATUS_UNSUPPORTED, "bf16 is not declared for cuDNN's legacy batch normalization");
  if (backward && p.mode() == mode::eval)
    reject(BNC_STATUS_UNSUPPORTED,
           "cuDNN's legacy API has no eval-mode backward (cudnnBatchNormalizationBackward "
           "differentiates batch statistics)");
  return p;
}

// Fills `count` stats values with v (1 or 0) or with all-ones bytes (a NaN).
void fill(void* device, const problem& p, std::int64_t count, double v, cudaStream_t stream) {
  const std::size_t bytes = static_cast<std::size_t>(count) * size_of(p.stats_type());
  if (bytes == 0) return;
  if (v != v) {
    check(cudaMemsetAsync(device, 0xff, bytes, stream), "cudaMemsetAsync");
    return;
  }
  std::vector<unsigned char> host(bytes);
  for (std::int64_t i = 0; i < count; ++i) {
    if (p.stats_type() == dtype::f64) {
      std::memcpy(host.data() + i * 8, &v, 8);
    } else {
      const float f = static_cast<float>(v);
      std::memcpy(host.data() + i * 4, &f, 4);
    }
  }
  check(cudaMemcpyAsync(device, host.data(), bytes, cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

template <class Body>
bnc_status guarded(char* message, std::size_t size, Body&& body) {
  const auto say = [&](const std::string& text) {
    if (message != nullptr && size > 0) std::snprintf(message, size, "%s", text.c_str());
  };
  say("");
  try {
    body();
    return BNC_STATUS_OK;
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

// alpha = 1, beta = 0 scaling factors: double for double data, float otherwise.
struct scaling {
  double d1 = 1, d0 = 0;
  float f1 = 1, f0 = 0;
  const void* one(const problem& p) const {
    return p.data_type() == dtype::f64 ? static_cast<const void*>(&d1) : &f1;
  }
  const void* zero(const problem& p) const {
    return p.data_type() == dtype::f64 ? static_cast<const void*>(&d0) : &f0;
  }
};

bnc_status forward_entry(void*, const bnc_problem* descriptor, const bnc_forward_args* a,
                         char* message, std::size_t size) {
  return guarded(message, size, [&] {
    // The descriptor, what cuDNN implements, then the arguments and m == 1;
    // keeps_module_state = 0: the caller's exponential_average_factor is checked.
    enforce(problem_abi_rules(descriptor));
    const problem p = checked_problem(descriptor, false);
    enforce(forward_abi_rules(descriptor, a, 0, BNC_STATUS_OK));
    const bool batch = p.uses_batch_statistics();
    const bool update = p.track_running_stats() && p.mode() == mode::training;
    const bool has_elements = p.element_count() > 0;
    const double f = a->exponential_average_factor;
    const auto stream = static_cast<cudaStream_t>(a->stream);
    const std::int64_t c = p.channels();
    if (c == 0) return;
    if (!has_elements) {
      // Empty batch (semantics.md): empty y, running statistics unchanged,
      // save_mean and save_invstd NaN (0 / 0).
      if (batch) {
        fill(a->save_mean, p, c, std::numeric_limits<double>::quiet_NaN(), stream);
        fill(a->save_invstd, p, c, std::numeric_limits<double>::quiet_NaN(), stream);
      }
      check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      return;
    }
    descriptors d;
    describe(p, d);
    const std::size_t stats_bytes = static_cast<std::size_t>(c) * size_of(p.stats_type());
    std::unique_ptr<device_buffer> unit_gamma, unit_beta;
    const void* gamma = a->gamma;
    const void* beta = a->beta;
    if (!p.affine()) {
      unit_gamma = std::make_unique<device_buffer>(stats_bytes);
      unit_beta = std::make_unique<device_buffer>(stats_bytes);
      fill(unit_gamma->get(), p, c, 1.0, stream);
      fill(unit_beta->get(), p, c, 0.0, stream);
      gamma = unit_gamma->get();
      beta = unit_beta->get();
    }
    cudnnHandle_t h = handle();
    check(cudnnSetStream(h, stream), "cudnnSetStream");
    const scaling k;
    if (batch) {
      // Eval without running statistics is training without an update: NULL
      // running buffers (as PyTorch passes them).
      check(cudnnBatchNormalizationForwardTraining(
                h, CUDNN_BATCHNORM_SPATIAL, k.one(p), k.zero(p), d.data.get(), a->x, d.data.get(),
                a->y, d.stats.get(), gamma, beta, update ? f : 0.0,
                update ? a->running_mean : nullptr, update ? a->running_var : nullptr, p.eps(),
                a->save_mean, a->save_invstd),
            "cudnnBatchNormalizationForwardTraining");
    } else {
      check(cudnnBatchNormalizationForwardInference(
                h, CUDNN_BATCHNORM_SPATIAL, k.one(p), k.zero(p), d.data.get(), a->x, d.data.get(),
                a->y, d.stats.get(), gamma, beta, a->running_mean, a->running_var, p.eps()),
            "cudnnBatchNormalizationForwardInference");
    }
    check(cudaStreamSynchronize(stream), "cudnn forward");
  });
}

bnc_status backward_entry(void*, const bnc_problem* descriptor, const bnc_backward_args* a,
                          char* message, std::size_t size) {
  return guarded(message, size, [&] {
    // Eval-mode backward is unsupported (checked_problem), so batch statistics are
    // used and save_mean, save_invstd are required.
    enforce(problem_abi_rules(descriptor));
    const problem p = checked_problem(descriptor, true);
    enforce(backward_abi_rules(descriptor, a, BNC_STATUS_OK));
    const bool has_elements = p.element_count() > 0;
    const auto stream = static_cast<cudaStream_t>(a->stream);
    const std::int64_t c = p.channels();
    if (c == 0) return;
    if (!has_elements) {  // empty batch: empty dx, zero dgamma and dbeta
      if (p.affine()) {
        fill(a->dgamma, p, c, 0.0, stream);
        fill(a->dbeta, p, c, 0.0, stream);
      }
      return;
    }
    descriptors d;
    describe(p, d);
    const std::size_t stats_bytes = static_cast<std::size_t>(c) * size_of(p.stats_type());
    std::unique_ptr<device_buffer> unit_gamma, unused_dgamma, unused_dbeta;
    const void* gamma = a->gamma;
    void* dgamma = a->dgamma;
    void* dbeta = a->dbeta;
    if (!p.affine()) {
      unit_gamma = std::make_unique<device_buffer>(stats_bytes);
      unused_dgamma = std::make_unique<device_buffer>(stats_bytes);
      unused_dbeta = std::make_unique<device_buffer>(stats_bytes);
      fill(unit_gamma->get(), p, c, 1.0, stream);
      gamma = unit_gamma->get();
      dgamma = unused_dgamma->get();
      dbeta = unused_dbeta->get();
    }
    cudnnHandle_t h = handle();
    check(cudnnSetStream(h, stream), "cudnnSetStream");
    const scaling k;
    check(cudnnBatchNormalizationBackward(h, CUDNN_BATCHNORM_SPATIAL, k.one(p), k.zero(p), k.one(p),
                                          k.zero(p), d.data.get(), a->x, d.data.get(), a->dy,
                                          d.data.get(), a->dx, d.stats.get(), gamma, dgamma, dbeta,
                                          p.eps(), a->save_mean, a->save_invstd),
          "cudnnBatchNormalizationBackward");
    check(cudaStreamSynchronize(stream), "cudnn backward");
  });
}

// Declared: what cuDNN's legacy API does. Not declared: bf16 (not established
// for these calls without a GPU run) and eval-mode backward (no such call).
constexpr bnc_capabilities capabilities = {
    BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING,
    BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32) | BNC_BIT(BNC_DTYPE_F16),
    BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
    BNC_BIT(BNC_PROFILE_PYTORCH),
    2,
    INT32_MAX,
    BNC_MEMORY_DEVICE,
    0};

const bnc_kernel description = {BNC_ABI_VERSION,  sizeof(bnc_kernel), "cudnn",
                                "cuDNN 9 legacy", capabilities,       nullptr,
                                forward_entry,    backward_entry,     0};

}  // namespace

const bnc_kernel* cudnn_kernel() { return &description; }

}  // namespace bnconform::cudnn
