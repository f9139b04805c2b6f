#pragma once
// The reference's number type: a binary float of `Bits` significand bits,
// expression templates off (predictable cost, no surprises from `auto`).
#include <boost/multiprecision/cpp_bin_float.hpp>

namespace bnconform::reference {

template <unsigned Bits>
using mp_float = boost::multiprecision::number<
    boost::multiprecision::cpp_bin_float<Bits, boost::multiprecision::digit_base_2>,
    boost::multiprecision::et_off>;

}  // namespace bnconform::reference
