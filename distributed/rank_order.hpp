#pragma once
// The sum every binding gives `all_reduce_sum`: every rank's values gathered, rank
// r's `count` values at r * count, added in rank order, so that every rank gets the
// same bits (the ABI's promise, which no transport's own reduction makes).
#include <cstdint>
#include <cstring>

#include "bnconform/kernel.h"

namespace bnconform::distributed {

template <class T>
void add_in_rank_order(const unsigned char* gathered, void* buffer, std::int64_t count, int ranks) {
  auto* out = static_cast<T*>(buffer);
  for (std::int64_t i = 0; i < count; ++i) {
    T sum = 0;
    for (int r = 0; r < ranks; ++r) {
      T v;
      std::memcpy(&v, gathered + static_cast<std::size_t>(r * count + i) * sizeof(T), sizeof(T));
      sum += v;
    }
    out[i] = sum;
  }
}

// `gathered` holds every rank's values of `type`; the sum goes to `buffer`.
inline void add_in_rank_order(const unsigned char* gathered, void* buffer, std::int64_t count,
                              int ranks, bnc_element type) {
  switch (type) {
    case BNC_ELEMENT_F64: add_in_rank_order<double>(gathered, buffer, count, ranks); break;
    case BNC_ELEMENT_F32: add_in_rank_order<float>(gathered, buffer, count, ranks); break;
    case BNC_ELEMENT_I64: add_in_rank_order<std::int64_t>(gathered, buffer, count, ranks); break;
  }
}

}  // namespace bnconform::distributed
