#pragma once
// Guard pages around the harness's host buffers. A guarded_buffer in host memory
// (core/guarded_buffer.cpp) lives in its own mapping, between two regions of
// `guard_bytes` mapped PROT_NONE: a kernel that reads or writes far outside a
// buffer (past the canaries) faults in the call that made the access, instead of
// corrupting something that fails later, or nothing.
//
// Each mapping is registered under its buffer's name in a small fixed table that a
// signal handler can read. In a process that calls report_faults_to(fd) (certify's
// worker children), a SIGSEGV or SIGBUS whose fault address lies in a registered
// guard region writes one line, "fault out-of-bounds write: y, 65536 bytes past its
// end", to fd before the process dies of the signal; any other fault goes on to
// the handler that was there before (the default, or a sanitizer's).
#include <cstddef>
#include <string>

namespace bnconform::guard_pages {

// The PROT_NONE region on each side of a mapping: address space only, no memory.
constexpr std::size_t guard_bytes = std::size_t{1} << 20;
// Mappings at least this large are advised to use transparent huge pages
// (madvise(MADV_HUGEPAGE)): faulting in 4 KiB pages costs about ten times more.
constexpr std::size_t huge_page_threshold = std::size_t{2} << 20;

std::size_t page_size();
// `bytes` rounded up to whole pages (at least one).
std::size_t accessible_size(std::size_t bytes);

// Maps accessible_size(bytes) read-write bytes, zero-filled and page aligned,
// between two guard regions, and registers them under `name` (truncated to 31
// characters) with the buffer's data at [data_begin, data_end) of the mapping (the
// fault report measures from these). Throws bnconform::error when the mapping
// fails.
std::byte* map(std::size_t bytes, const std::string& name, std::size_t data_begin,
               std::size_t data_end);
// Unregisters and unmaps what map(bytes, ...) returned.
void unmap(std::byte* start, std::size_t bytes) noexcept;

// "out-of-bounds write: y, 65536 bytes past its end" ("read" when `write` is
// false; "N bytes before its start" below the buffer) when `address` lies in a
// registered guard region, else empty.
std::string describe_fault(const void* address, bool write);

// Installs, once per process (later calls change the descriptor), the SIGSEGV and
// SIGBUS handler described above, writing "fault <description>\n" to `fd`.
void report_faults_to(int fd);

}  // namespace bnconform::guard_pages
