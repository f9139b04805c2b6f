// The compute code for one instruction-set variant. Compiled several times with
// BNCONFORM_CPU_VARIANT_NAME (the function defining the variant) and the
// matching -march flags; everything it instantiates is in headers.
#include "variant.hpp"

#include <cstring>

#include "backward.hpp"
#include "forward.hpp"

#ifndef BNCONFORM_CPU_VARIANT_NAME
#error "BNCONFORM_CPU_VARIANT_NAME must name the variant's function"
#endif
#ifndef BNCONFORM_CPU_VARIANT_LABEL
#error "BNCONFORM_CPU_VARIANT_LABEL must be the variant's name string"
#endif

namespace bnconform::cpu {

namespace {

// The data dtype selects the storage type; the stats dtype follows (validated).
call_report forward_any(const forward_plan& plan) {
  switch (plan.data) {
    case BNC_DTYPE_F64: return forward<double>(plan);
    case BNC_DTYPE_F32: return forward<float>(plan);
    case BNC_DTYPE_F16: return forward<f16_bits>(plan);
    case BNC_DTYPE_BF16: return forward<bf16_bits>(plan);
  }
  return {};
}

call_report backward_any(const backward_plan& plan) {
  switch (plan.data) {
    case BNC_DTYPE_F64: return backward<double>(plan);
    case BNC_DTYPE_F32: return backward<float>(plan);
    case BNC_DTYPE_F16: return backward<f16_bits>(plan);
    case BNC_DTYPE_BF16: return backward<bf16_bits>(plan);
  }
  return {};
}

// bf16_bits is a struct holding one std::uint16_t: the arrays share their layout.
void widen_bf16_run(const std::uint16_t* in, float* out, std::int64_t n) {
  const auto* from = reinterpret_cast<const bf16_bits*>(in);
  std::int64_t i = 0;
#if defined(__AVX2__)
  for (; i + bf16_step <= n; i += bf16_step) {
    f32v lo, hi;
    widen_step(from + i, lo, hi);
    std::memcpy(out + i, &lo, sizeof lo);
    std::memcpy(out + i + bf16_step / 2, &hi, sizeof hi);
  }
#if defined(BNCONFORM_CPU_BF16_PARTS)
  // The rest as the elementwise passes take the rest of a row: masked.
  for (; i < n; i += 16) {
    const std::int64_t part = n - i < 16 ? n - i : 16;
    float values[16];
    const f32v v = widen_part(from + i, part);
    std::memcpy(values, &v, sizeof values);
    std::memcpy(out + i, values, static_cast<std::size_t>(part) * sizeof(float));
  }
#endif
#endif
  for (; i < n; ++i) out[i] = widen(from[i]);
}

void narrow_bf16_run(const float* in, std::uint16_t* out, std::int64_t n) {
  auto* to = reinterpret_cast<bf16_bits*>(out);
  std::int64_t i = 0;
#if defined(__AVX2__)
  for (; i + bf16_step <= n; i += bf16_step)
    narrow_step(to + i, load_f32v(in + i), load_f32v(in + i + bf16_step / 2));
#if defined(BNCONFORM_CPU_BF16_PARTS)
  for (; i < n; i += 16) {
    const std::int64_t part = n - i < 16 ? n - i : 16;
    float values[16] = {};
    std::memcpy(values, in + i, static_cast<std::size_t>(part) * sizeof(float));
    f32v v;
    std::memcpy(&v, values, sizeof v);
    narrow_part(to + i, part, v);
  }
#endif
#endif
  for (; i < n; ++i) to[i] = narrow_bf16(in[i]);
}

}  // namespace

namespace variants {
const variant& BNCONFORM_CPU_VARIANT_NAME() {
  static const variant v{BNCONFORM_CPU_VARIANT_LABEL, forward_any, backward_any, widen_bf16_run,
                         narrow_bf16_run};
  return v;
}
}  // namespace variants

}  // namespace bnconform::cpu
