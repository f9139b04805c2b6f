#pragma once
// Isolation for code we do not trust: a kernel may segfault, abort, hang or
// corrupt memory, and the certifier or fuzzer that runs it must not go down with
// it. A child_process is a fork() of the caller that runs one function and talks
// back through a pipe, one text line per message; the parent reads the lines,
// kills the child when it stays silent too long, and learns how it ended.
//
// POSIX only. The parent must not hold threads it needs in the child (fork copies
// only the calling thread): the certifier and the fuzzer call kernels in children
// only, so OpenMP pools are created there.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bnconform {

// The exit status of a child whose pipe to the parent was closed or replaced under
// it (code it runs closed descriptors it does not own): it can no longer report, so
// it ends with this status, which child_exit::describe names.
constexpr int report_pipe_lost_status = 71;

// The child's end of the pipe.
class child_channel {
 public:
  explicit child_channel(int fd);
  // Sends one line ('\n' is added; a '\n' inside `line` becomes a space). The line
  // is written whole before send returns, so a crash right after loses nothing.
  // When the descriptor no longer is the pipe it was (closed, or reused for another
  // file), the child _exit()s with report_pipe_lost_status instead.
  void send(std::string_view line) const;
  // The pipe's descriptor, for what must write to it from a signal handler
  // (guard_pages::report_faults_to).
  int fd() const { return fd_; }

 private:
  int fd_;
  std::uint64_t device_ = 0, inode_ = 0;  // what fd_ was at construction
};

// What a child writes to its stdout and stderr (fds 1 and 2), kept in a file that
// parent and child share (opened before the fork), so that it is attributed to
// the item that printed it and survives the child's crash. Only the first
// kept_bytes of each take() are kept; the rest is counted.
class output_capture {
 public:
  static constexpr std::size_t kept_bytes = 4096;
  struct taken {
    std::string text;          // at most kept_bytes, as written (any bytes)
    std::int64_t dropped = 0;  // bytes written past them
  };

  output_capture();  // throws bnconform::error when no file can be made
  ~output_capture();
  output_capture(const output_capture&) = delete;
  output_capture& operator=(const output_capture&) = delete;

  // In the child: fds 1 and 2 write into the file, stdout line-buffered (as on a
  // terminal, so that a crash loses at most an unfinished line).
  void redirect_standard_streams() const;
  // What was written since the last take (flushing this process's stdio first),
  // and empties the file. Either side may call it; nothing is taken when the
  // descriptor no longer is the file (code in the child closed or replaced it).
  taken take();
  // The parent, while the child runs: when the file holds more than `limit`
  // bytes, cuts it to kept_bytes and returns how many bytes it cut (0 otherwise),
  // so that a kernel printing without end fills neither memory nor disk.
  std::int64_t trim(std::int64_t limit);

 private:
  bool still_the_file() const;
  int fd_ = -1;
  std::uint64_t device_ = 0, inode_ = 0;
};

// How a child ended.
struct child_exit {
  enum class how : std::uint8_t { exited, signaled, timed_out };
  how kind = how::exited;
  int code = 0;               // exit status (exited) or signal number (signaled)
  double silent_seconds = 0;  // timed_out: how long it had been silent when killed
  // Processes of the child's process group still running once it had ended (forked
  // by code it ran, never waited for): the parent killed them.
  int left_running = 0;

  bool clean() const { return kind == how::exited && code == 0 && left_running == 0; }
  // "exited with status 3", "killed by signal 11 (SIGSEGV: Segmentation fault)",
  // "timed out: no answer for 2.0 s", "exited with status 71 (its report pipe was
  // closed or replaced: ...)", each followed by "; it left 1 process running (killed)"
  // when so.
  std::string describe() const;
};

class child_process {
 public:
  // Forks. The child leads a process group of its own, runs work(channel) and
  // _exit()s with its return value, without running the parent's exit handlers; an
  // exception escaping `work` is sent as a line "child-error <what>" and the child
  // exits with status 70.
  explicit child_process(const std::function<int(child_channel&)>& work);
  ~child_process();  // kills (SIGKILL) and reaps a child still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  int fd() const { return fd_; }  // the parent's end, for poll()

  // Reads what the pipe holds without blocking; appends each complete line.
  // Returns false once every write end is closed (the child exited or died, and
  // nothing it forked holds the pipe).
  bool read_available(std::vector<std::string>& lines);
  // Without blocking: whether the child has ended (it is reaped then). A child can
  // end while its pipe stays open, held by a process it forked; the caller reads
  // what is left and calls wait().
  bool ended();
  void kill();  // SIGKILL to the child's whole process group
  // Reaps the child (blocking until it is gone), then kills what is left of its
  // process group and counts it (child_exit::left_running). `timed_out` marks a
  // child the caller killed for silence; `silent_seconds` says for how long.
  child_exit wait(bool timed_out = false, double silent_seconds = 0);

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string partial_;  // an incomplete last line
  bool reaped_ = false;
  int status_ = 0;  // waitpid's status, once reaped
};

// The processes whose parent is `parent` (or, with by_group, whose process group is
// `parent`) that have not exited (zombies are left out), from /proc; empty where
// /proc cannot be read.
std::vector<pid_t> running_processes_of(pid_t parent, bool by_group = false);

// Runs one child to its end: `on_line` gets each line it sends, in order; when no
// line arrives within `idle_timeout` the child is killed and the exit says
// timed_out. Lines sent before a crash are all delivered.
child_exit run_child(const std::function<int(child_channel&)>& work,
                     std::chrono::milliseconds idle_timeout,
                     const std::function<void(const std::string&)>& on_line);

}  // namespace bnconform
