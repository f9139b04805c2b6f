#include "thread_group.hpp"

#include <cstring>
#include <exception>
#include <thread>

#include "core/error.hpp"
#include "rank_order.hpp"

namespace bnconform::distributed {

namespace {

std::size_t width_of(bnc_element type) { return type == BNC_ELEMENT_F32 ? 4 : 8; }

}  // namespace

thread_group::thread_group(int size) : size_(size) {
  if (size < 1) report_error("a thread group needs at least one rank");
  members_.resize(static_cast<std::size_t>(size));
  slots_.resize(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    member& m = members_[static_cast<std::size_t>(r)];
    m.group = this;
    m.rank = r;
    m.communicator.struct_size = sizeof(bnc_communicator);
    m.communicator.rank = r;
    m.communicator.size = size;
    m.communicator.context = &m;
    m.communicator.all_reduce_sum = all_reduce_sum;
    m.communicator.all_gather = all_gather;
  }
}

void thread_group::run(const std::function<void(const bnc_communicator&)>& body) {
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size_));
  std::vector<std::thread> threads;
  for (int r = 0; r < size_; ++r) {
    members_[static_cast<std::size_t>(r)].calls = 0;
    threads.emplace_back([&, r] {
      try {
        body(members_[static_cast<std::size_t>(r)].communicator);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

bool thread_group::failing(member& m) { return fail_from_ >= 0 && m.calls++ >= fail_from_; }

void thread_group::barrier() {
  std::unique_lock lock(mutex_);
  const std::size_t gen = generation_;
  if (++waiting_ == size_) {
    waiting_ = 0;
    ++generation_;
    arrived_.notify_all();
    return;
  }
  arrived_.wait(lock, [&] { return generation_ != gen; });
}

void thread_group::exchange(member& m, const void* bytes, std::size_t size,
                            const std::function<void()>& read_all) {
  auto& slot = slots_[static_cast<std::size_t>(m.rank)];
  slot.assign(static_cast<const unsigned char*>(bytes),
              static_cast<const unsigned char*>(bytes) + size);
  barrier();
  read_all();
  barrier();
}

bnc_status thread_group::all_reduce_sum(void* context, void* buffer, std::int64_t count,
                                        bnc_element type) {
  member& m = *static_cast<member*>(context);
  std::vector<unsigned char> all(static_cast<std::size_t>(count) * width_of(type) *
                                 static_cast<std::size_t>(m.group->size_));
  const bnc_status s = all_gather(context, buffer, all.data(), count, type);
  if (s == BNC_STATUS_OK) add_in_rank_order(all.data(), buffer, count, m.group->size_, type);
  return s;
}

bnc_status thread_group::all_gather(void* context, const void* send, void* receive,
                                    std::int64_t count, bnc_element type) {
  member& m = *static_cast<member*>(context);
  if (m.group->failing(m)) return BNC_STATUS_INTERNAL_ERROR;
  const std::size_t bytes = static_cast<std::size_t>(count) * width_of(type);
  m.group->exchange(m, send, bytes, [&] {
    auto* out = static_cast<unsigned char*>(receive);
    for (const auto& slot : m.group->slots_) {
      if (bytes > 0) std::memcpy(out, slot.data(), bytes);
      out += bytes;
    }
  });
  return BNC_STATUS_OK;
}

}  // namespace bnconform::distributed
