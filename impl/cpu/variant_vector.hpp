#pragma once
// std::vector for the compute headers, with an allocator declared in the variant's
// inline namespace. std::vector<double>'s member functions are weak symbols named
// outside any variant: where the compiler does not inline one (the ASan build at
// -O1 emitted `std::vector<double>::vector(size_t, ...)` from the x86-64-v3 object),
// the linker keeps a single copy for every variant, and a baseline CPU could run
// AVX2 code (check_variant_symbols.cmake fails on that). With the allocator as a
// template argument every such symbol carries the variant's namespace.
#include <memory>
#include <vector>

#include "isa_namespace.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

template <class T>
struct variant_allocator : std::allocator<T> {
  variant_allocator() = default;
  template <class U>
  variant_allocator(const variant_allocator<U>&) noexcept {}
};

template <class T>
using variant_vector = std::vector<T, variant_allocator<T>>;

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
