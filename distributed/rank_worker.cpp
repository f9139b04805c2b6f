#include "rank_worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <tuple>

#include "check/compare.hpp"
#include "core/error.hpp"
#include "rank_record.hpp"

namespace bnconform::distributed {

namespace {

// The communicator the kernel gets: the bound one, with every collective it enters
// counted and written to the progress file first.
class logged_communicator {
 public:
  logged_communicator(const bnc_communicator& inner, int fd) : inner_(inner), fd_(fd) {
    outer_ = inner;
    outer_.struct_size = sizeof(bnc_communicator);
    outer_.context = this;
    outer_.all_reduce_sum = all_reduce_sum;
    outer_.all_gather = all_gather;
  }
  const bnc_communicator* get() const { return &outer_; }
  void start(int call) {
    call_ = call;
    entered_ = 0;
  }
  std::int64_t entered() const { return entered_; }

 private:
  void log_entry() {
    const std::string line =
        "collective " + std::to_string(call_) + " " + std::to_string(entered_++) + "\n";
    (void)!::write(fd_, line.data(), line.size());
  }
  static bnc_status all_reduce_sum(void* context, void* buffer, std::int64_t count,
                                   bnc_element type) {
    auto& self = *static_cast<logged_communicator*>(context);
    self.log_entry();
    return self.inner_.all_reduce_sum(self.inner_.context, buffer, count, type);
  }
  static bnc_status all_gather(void* context, const void* send, void* receive, std::int64_t count,
                               bnc_element type) {
    auto& self = *static_cast<logged_communicator*>(context);
    self.log_entry();
    return self.inner_.all_gather(self.inner_.context, send, receive, count, type);
  }

  const bnc_communicator& inner_;
  int fd_;
  bnc_communicator outer_{};
  int call_ = 0;
  std::int64_t entered_ = 0;
};

void log_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
}

// The save_mean and save_invstd a backward step is given: the reference's for the
// whole batch (the same on every rank), so that the backward is judged on its own.
struct saved_statistics {
  tensor mean, invstd;
};

step_record run_step(const kernel& k, logged_communicator& comm, const distributed_call& call,
                     std::size_t step, const properties::case_inputs& in, int rank,
                     const saved_statistics& saved, module_state& state) {
  const step_kind kind = call.step_list()[step];
  const sharding shards(call.step_problem(step), call.batches);
  const problem mine = shards.problem_of(rank);
  const tensor x = shards.slice(in.x, rank);
  step_record r;
  const std::int64_t before = comm.entered();
  if (!is_backward(kind)) {
    forward_outputs out = k.forward(mine, x, state, nullptr, comm.get());
    r.status = std::move(out.status);
    r.data = std::move(out.y);
    r.stats_a = std::move(out.save_mean);
    r.stats_b = std::move(out.save_invstd);
    r.guards = std::move(out.guards);
  } else {
    backward_outputs out = k.backward(mine, x, shards.slice(in.dy, rank), state, saved.mean,
                                      saved.invstd, nullptr, comm.get());
    r.status = std::move(out.status);
    r.data = std::move(out.dx);
    r.stats_a = std::move(out.dgamma);
    r.stats_b = std::move(out.dbeta);
    r.guards = std::move(out.guards);
  }
  r.state_after = state;
  r.collectives = comm.entered() - before;
  return r;
}

}  // namespace

std::string progress_path(const std::string& directory, int rank) {
  return directory + "/progress.rank-" + std::to_string(rank);
}

void run_rank(const kernel& k, const bnc_communicator& communicator,
              const std::vector<distributed_call>& calls, const std::string& directory) {
  const int rank = communicator.rank;
  const std::string progress = progress_path(directory, rank);
  const int fd = ::open(progress.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) report_error("cannot write " + progress);
  logged_communicator comm(communicator, fd);
  try {
    for (std::size_t c = 0; c < calls.size(); ++c) {
      const distributed_call& call = calls[c];
      if (call.ranks() != communicator.size) {
        report_error("call " + std::to_string(c) + " has " + std::to_string(call.ranks()) +
                     " shards for " + std::to_string(communicator.size) + " ranks");
      }
      const int index = static_cast<int>(c);
      log_line(fd, "call " + std::to_string(index));
      comm.start(index);
      rank_record record;
      module_state state = call.step_inputs(0).state;
      for (std::size_t step = 0; step < call.steps.size(); ++step) {
        const properties::case_inputs in = call.step_inputs(step);
        saved_statistics saved;
        if (is_backward(call.step_list()[step])) {
          std::tie(saved.mean, saved.invstd) =
              check::reference_saved_statistics(call.step_problem(step), in.x, state);
        }
        module_state again = state;
        std::array<step_record, 2> runs;
        runs[0] = run_step(k, comm, call, step, in, rank, saved, state);
        runs[1] = run_step(k, comm, call, step, in, rank, saved, again);
        record.steps.push_back(std::move(runs));
      }
      write_record(record_path(directory, index, rank), record);
      log_line(fd, "done " + std::to_string(index));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace bnconform::distributed
