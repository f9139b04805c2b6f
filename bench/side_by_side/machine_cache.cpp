#include "machine_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <string>

namespace bnconform::bench {

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The largest data or unified cache in /sys/devices/system/cpu/cpu0/cache/indexK.
std::optional<cache_size> from_sysfs() {
  std::optional<cache_size> best;
  for (int k = 0; k < 16; ++k) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(k) + "/";
    const std::string type = first_line(dir + "type");
    if (type.empty()) continue;
    if (type != "Data" && type != "Unified") continue;
    const std::optional<std::int64_t> bytes = parse_cache_size(first_line(dir + "size"));
    if (!bytes || *bytes <= 0) continue;
    if (!best || *bytes > best->bytes) {
      best = cache_size{
          *bytes, "sysfs, level " + first_line(dir + "level") + " " + type + " cache of cpu0"};
    }
  }
  return best;
}

}  // namespace

std::optional<std::int64_t> parse_cache_size(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 'K': unit = std::int64_t{1} << 10; break;
    case 'M': unit = std::int64_t{1} << 20; break;
    case 'G': unit = std::int64_t{1} << 30; break;
    default: break;
  }
  if (unit != 1) text.remove_suffix(1);
  if (text.empty() || text.size() > 12) return std::nullopt;
  std::int64_t value = 0;
  for (const char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value * unit;
}

std::vector<sweep_point> read_bandwidth_sweep(std::int64_t max_bytes, int threads) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t b = std::int64_t{1} << 20; b <= max_bytes; b *= 2) {
    sizes.push_back(b);
    if (b + b / 2 <= max_bytes) sizes.push_back(b + b / 2);
  }
  std::vector<std::vector<double>> buffers;
  for (const std::int64_t b : sizes) buffers.emplace_back(static_cast<std::size_t>(b / 8), 1.0);
  std::vector<sweep_point> out;
  for (const std::int64_t b : sizes) out.push_back({b, 0.0});
  double sink = 0;
  // Rounds over every size in turn, so that a change of the machine's state
  // touches them all; each size read repeatedly (it stays in whatever cache holds it).
  for (int round = 0; round < 6; ++round) {
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      const double* p = buffers[k].data();
      const auto n = static_cast<std::int64_t>(buffers[k].size());
      const int passes =
          static_cast<int>(std::max<std::int64_t>(2, (std::int64_t{256} << 20) / sizes[k]));
      for (int pass = 0; pass < passes; ++pass) {
        const auto start = std::chrono::steady_clock::now();
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : a0, a1, a2, a3) schedule(static)
        for (std::int64_t i = 0; i < n; i += 4) {
          a0 += p[i];
          a1 += p[i + 1];
          a2 += p[i + 2];
          a3 += p[i + 3];
        }
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        sink += a0 + a1 + a2 + a3;
        out[k].bytes_per_second =
            std::max(out[k].bytes_per_second, static_cast<double>(sizes[k]) / t);
      }
    }
  }
  if (sink < 0) out.clear();  // keeps the sums alive; never true (every value is 1)
  return out;
}

cache_size last_level_cache() {
  if (std::optional<cache_size> s = from_sysfs()) return *s;
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (l3 > 0) return {l3, "CPUID through sysconf (level 3); sysfs has no cache entries"};
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l2 > 0) return {l2, "CPUID through sysconf (level 2); sysfs has no cache entries"};
  return {std::int64_t{32} << 20, "assumed: neither sysfs nor CPUID gives a size"};
}

}  // namespace bnconform::bench
