#include "dtype.hpp"

#include <cmath>
#include <string>

#include "error.hpp"

namespace bnconform {

double unit_roundoff(dtype t) { return std::ldexp(1.0, -format_of(t).precision); }

std::string_view name_of(dtype t) {
  switch (t) {
    case dtype::f64: return "f64";
    case dtype::f32: return "f32";
    case dtype::f16: return "f16";
    case dtype::bf16: return "bf16";
  }
  return "?";
}

dtype parse_dtype(std::string_view text) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    if (text == name_of(t)) return t;
  }
  report_error("unknown dtype '" + std::string(text) + "' (expected f64, f32, f16 or bf16)");
}

bnc_dtype to_abi(dtype t) {
  switch (t) {
    case dtype::f64: return BNC_DTYPE_F64;
    case dtype::f32: return BNC_DTYPE_F32;
    case dtype::f16: return BNC_DTYPE_F16;
    case dtype::bf16: return BNC_DTYPE_BF16;
  }
  return BNC_DTYPE_F64;
}

dtype from_abi(bnc_dtype t) {
  switch (t) {
    case BNC_DTYPE_F64: return dtype::f64;
    case BNC_DTYPE_F32: return dtype::f32;
    case BNC_DTYPE_F16: return dtype::f16;
    case BNC_DTYPE_BF16: return dtype::bf16;
  }
  report_error("unknown bnc_dtype value " + std::to_string(static_cast<int>(t)));
}

}  // namespace bnconform
