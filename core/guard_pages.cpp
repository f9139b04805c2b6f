#include "guard_pages.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "error.hpp"

namespace bnconform::guard_pages {

namespace {

// One registered mapping. `state` is 0 (free), 1 (being written) or 2 (ready); the
// signal handler reads only ready slots, and every field is a plain value.
struct slot {
  std::atomic<int> state{0};
  std::uintptr_t accessible_begin = 0, accessible_end = 0;
  std::uintptr_t data_begin = 0, data_end = 0;
  std::array<char, 32> name{};
};

// Buffers live for one kernel call (about ten at a time); a buffer that finds the
// table full is still guarded, only its fault is not named.
constexpr std::size_t slot_count = 128;
std::array<slot, slot_count> table;

std::atomic<int> report_fd{-1};
struct sigaction previous_segv {};
struct sigaction previous_bus {};

// Writes the decimal digits of v at `out`; returns the end.
char* put_number(char* out, std::uintptr_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

char* put_text(char* out, const char* text, const char* limit) {
  while (*text != '\0' && out < limit) *out++ = *text++;
  return out;
}

// The description of a fault at `a` into out[0..size), or 0 when no registered
// guard region holds it. Async-signal-safe: no allocation, no locks.
std::size_t format_fault(std::uintptr_t a, bool write, char* out, std::size_t size) {
  for (const slot& s : table) {
    if (s.state.load(std::memory_order_acquire) != 2) continue;
    const bool after = a >= s.accessible_end && a - s.accessible_end < guard_bytes;
    const bool before = a < s.accessible_begin && s.accessible_begin - a <= guard_bytes;
    if (!after && !before) continue;
    char* p = out;
    const char* limit = out + size - 1;
    p = put_text(p, write ? "out-of-bounds write: " : "out-of-bounds read: ", limit);
    p = put_text(p, s.name.data(), limit);
    p = put_text(p, ", ", limit);
    if (limit - p < 24) return 0;
    p = put_number(p, after ? a - s.data_end : s.data_begin - a);
    p = put_text(p, after ? " bytes past its end" : " bytes before its start", limit);
    return static_cast<std::size_t>(p - out);
  }
  return 0;
}

bool is_write(const void* context) {
#if defined(__x86_64__) && defined(REG_ERR)
  // The page-fault error code: bit 1 is set for a write.
  const auto* uc = static_cast<const ucontext_t*>(context);
  return (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
  (void)context;
  return true;
#endif
}

void on_fault(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  char line[128];
  std::memcpy(line, "fault ", 6);
  const std::size_t n = format_fault(reinterpret_cast<std::uintptr_t>(info->si_addr),
                                     is_write(context), line + 6, sizeof line - 7);
  const int fd = report_fd.load();
  if (n > 0 && fd >= 0) {
    line[6 + n] = '\n';
    const ssize_t written = ::write(fd, line, 6 + n + 1);
    (void)written;  // the parent is gone: nobody is left to tell
  }
  // Let the signal take its course: a named fault with the default action, any
  // other with the handler that was there before. Returning re-runs the faulting
  // access, which faults again into that action; a signal that was sent, not
  // caused by an access, is raised again.
  if (n > 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigemptyset(&dfl.sa_mask);
    ::sigaction(sig, &dfl, nullptr);
  } else {
    ::sigaction(sig, sig == SIGBUS ? &previous_bus : &previous_segv, nullptr);
  }
  errno = saved_errno;
  if (info->si_code <= 0) ::raise(sig);
}

}  // namespace

std::size_t page_size() {
  static const std::size_t size = [] {
    const long s = ::sysconf(_SC_PAGESIZE);
    return s > 0 ? static_cast<std::size_t>(s) : std::size_t{4096};
  }();
  return size;
}

std::size_t accessible_size(std::size_t bytes) {
  const std::size_t page = page_size();
  return bytes == 0 ? page : (bytes + page - 1) / page * page;
}

std::byte* map(std::size_t bytes, const std::string& name, std::size_t data_begin,
               std::size_t data_end) {
  const std::size_t accessible = accessible_size(bytes);
  const std::size_t total = accessible + 2 * guard_bytes;
  void* whole =
      ::mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (whole == MAP_FAILED) {
    report_error("out of host memory for " + std::to_string(bytes) +
                 " bytes (mmap: " + std::strerror(errno) + ")");
  }
  auto* start = static_cast<std::byte*>(whole) + guard_bytes;
  if (::mprotect(start, accessible, PROT_READ | PROT_WRITE) != 0) {
    const int e = errno;
    ::munmap(whole, total);
    report_error("out of host memory for " + std::to_string(bytes) +
                 " bytes (mprotect: " + std::strerror(e) + ")");
  }
#if defined(MADV_HUGEPAGE)
  if (accessible >= huge_page_threshold) ::madvise(start, accessible, MADV_HUGEPAGE);
#endif
  const auto begin = reinterpret_cast<std::uintptr_t>(start);
  for (slot& s : table) {
    int expected = 0;
    if (!s.state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) continue;
    s.accessible_begin = begin;
    s.accessible_end = begin + accessible;
    s.data_begin = begin + data_begin;
    s.data_end = begin + data_end;
    s.name.fill('\0');
    name.copy(s.name.data(), s.name.size() - 1);
    s.state.store(2, std::memory_order_release);
    break;
  }
  return start;
}

void unmap(std::byte* start, std::size_t bytes) noexcept {
  if (start == nullptr) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(start);
  for (slot& s : table) {
    if (s.state.load(std::memory_order_acquire) == 2 && s.accessible_begin == begin) {
      s.state.store(0, std::memory_order_release);
      break;
    }
  }
  ::munmap(start - guard_bytes, accessible_size(bytes) + 2 * guard_bytes);
}

std::string describe_fault(const void* address, bool write) {
  char text[128];
  const std::size_t n =
      format_fault(reinterpret_cast<std::uintptr_t>(address), write, text, sizeof text);
  return std::string(text, n);
}

void report_faults_to(int fd) {
  const int before = report_fd.exchange(fd);
  if (before >= 0) return;  // installed already
  struct sigaction action {};
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, &action, &previous_segv);
  ::sigaction(SIGBUS, &action, &previous_bus);
}

}  // namespace bnconform::guard_pages
