#include "threading.hpp"

#include <atomic>
#include <cstdlib>
#include <thread>

namespace bnconform::cpu {

namespace {

std::atomic<int> fixed_count{0};

int default_count() {
  static const int count = [] {
    if (const char* text = std::getenv("BNCONFORM_CPU_THREADS")) {
      char* end = nullptr;
      const long value = std::strtol(text, &end, 10);
      if (end != text && *end == '\0' && value > 0 && value <= 1024) return static_cast<int>(value);
    }
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(hardware);
  }();
  return count;
}

}  // namespace

int thread_count() {
  const int fixed = fixed_count.load(std::memory_order_relaxed);
  return fixed > 0 ? fixed : default_count();
}

void set_thread_count(int n) { fixed_count.store(n > 0 ? n : 0, std::memory_order_relaxed); }

}  // namespace bnconform::cpu
