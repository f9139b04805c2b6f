#pragma once
// An in-process process group: one thread per rank, each with a bnc_communicator
// whose collectives meet at a barrier. Tests drive a kernel's distributed calls
// with it without MPI. Floating sums are taken in rank order, so every rank gets
// the same bits, as the ABI requires of any binding.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "bnconform/kernel.h"

namespace bnconform::distributed {

class thread_group {
 public:
  explicit thread_group(int size);
  thread_group(const thread_group&) = delete;
  thread_group& operator=(const thread_group&) = delete;

  int size() const { return size_; }
  // Runs body(communicator) on one thread per rank and joins them; the first
  // exception a body throws is rethrown here.
  void run(const std::function<void(const bnc_communicator&)>& body);
  // From each rank's k-th collective on (counting from 0), every collective returns
  // BNC_STATUS_INTERNAL_ERROR at once: as if a rank had left the group.
  void fail_from(int k) { fail_from_ = k; }

 private:
  struct member {
    thread_group* group = nullptr;
    int rank = 0;
    int calls = 0;
    bnc_communicator communicator{};
  };
  static bnc_status all_reduce_sum(void* context, void* buffer, std::int64_t count,
                                   bnc_element type);
  static bnc_status all_gather(void* context, const void* send, void* receive, std::int64_t count,
                               bnc_element type);
  bool failing(member& m);
  // Every rank's bytes in slots_ once all have arrived; the second barrier keeps a
  // fast rank from overwriting its slot before the slow ones have read.
  void exchange(member& m, const void* bytes, std::size_t size,
                const std::function<void()>& read_all);
  void barrier();

  int size_;
  int fail_from_ = -1;
  std::vector<member> members_;
  std::vector<std::vector<unsigned char>> slots_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  int waiting_ = 0;
  std::size_t generation_ = 0;
};

}  // namespace bnconform::distributed
