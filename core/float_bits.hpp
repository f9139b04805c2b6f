#pragma once
// Storage encodings of the 16-bit formats, and exact text forms of values.
#include <cstdint>
#include <string>
#include <string_view>

#include "dtype.hpp"

namespace bnconform {

// v must already be a value of the format (see round_to_format); NaN encodes as the
// canonical quiet NaN.
std::uint16_t encode_f16(double v);
std::uint16_t encode_bf16(double v);
double decode_f16(std::uint16_t bits);
double decode_bf16(std::uint16_t bits);

// The shortest decimal that reads back (as a double, then rounded to t) as v;
// "nan", "inf" and "-inf" for the non-finite values. v must be a value of t.
std::string shortest_decimal(double v, dtype t);
// The C99 hex-float form ("0x1.8p+1"), exact for every double; "nan", "inf", "-inf".
std::string hex_float(double v);

// Reads a number written as decimal, hex float, "nan", "inf" or "-inf"; the whole
// text must be used. Throws bnconform::error naming `what` otherwise.
double parse_real(std::string_view text, std::string_view what);

}  // namespace bnconform
