#pragma once
// Deliberately broken variants of the exact engine, for the test that shows the
// differential suite catches them (tests/reference/exact_engine_test.cpp). Never
// set outside that test; one relaxed atomic load per element when unset.
#include <atomic>

namespace bnconform::reference::exact {

enum class fault {
  none,
  no_fallback,       // round the double word even where Ziv's test fails
  no_product_error,  // drop the error terms of a double-word product from the bound
  zero_sign_lost,    // settle every exact zero as +0
};

inline std::atomic<fault>& injected_fault() {
  static std::atomic<fault> f{fault::none};
  return f;
}

inline bool fault_is(fault f) { return injected_fault().load(std::memory_order_relaxed) == f; }

}  // namespace bnconform::reference::exact
