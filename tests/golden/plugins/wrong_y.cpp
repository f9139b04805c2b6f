// A kernel library that is the reference except that it scales every y by
// (1 + 2^-10): outside every budget for f64, f32 and f16 data (bf16 rounds it away). `golden check`
// must fail it (exit code 1) and say where.
#include <vector>

#include "core/dtype.hpp"
#include "core/tensor.hpp"
#include "reference/reference_kernel.hpp"

namespace {

bnc_status forward(void* context, const bnc_problem* p, const bnc_forward_args* a, char* message,
                   std::size_t size) {
  const bnc_kernel* reference = bnconform::reference::reference_kernel(256);
  const bnc_status s = reference->forward(context, p, a, message, size);
  if (s != BNC_STATUS_OK || a->y == nullptr) return s;
  std::int64_t count = 1;
  for (std::int32_t i = 0; i < p->rank; ++i) count *= p->shape[i];
  const bnconform::dtype t = bnconform::from_abi(p->data_dtype);
  std::vector<double> y = bnconform::read_values(a->y, t, count);
  for (double& v : y) v *= 1 + 0x1p-10;
  bnconform::write_values(a->y, t, y);
  return s;
}

bnc_kernel make() {
  bnc_kernel k = *bnconform::reference::reference_kernel(256);
  k.name = "wrong-y";
  k.forward = forward;
  return k;
}

const bnc_kernel wrong_y = make();

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) { return &wrong_y; }
