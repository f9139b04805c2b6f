#pragma once
// The machine's last-level cache, which decides whether a case's tensors can be
// served from cache (its figures then say nothing about memory bandwidth) or must
// stream from DRAM.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bnconform::bench {

struct cache_size {
  std::int64_t bytes = 0;
  std::string source;  // where the figure came from, for the report
};

// sysfs's cache entries of cpu0 (the largest data or unified cache), else what the
// C library reads from CPUID (sysconf's level 3, then level 2), else 32 MiB,
// saying so.
cache_size last_level_cache();

// Read bandwidth over working sets of 1 MiB to `max_bytes` (powers of two and
// their midpoints), best of interleaved rounds at `threads` OpenMP threads: where
// it drops is the cache a core actually reaches, for machines (VMs) whose sysfs
// and CPUID do not say (bnconform_bench --cache-sweep prints it).
struct sweep_point {
  std::int64_t bytes;
  double bytes_per_second;
};
std::vector<sweep_point> read_bandwidth_sweep(std::int64_t max_bytes, int threads);

// sysfs's size text ("32768K", "1M", "512") in bytes; nullopt when malformed.
std::optional<std::int64_t> parse_cache_size(std::string_view text);

}  // namespace bnconform::bench
