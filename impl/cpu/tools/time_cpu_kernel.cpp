// A rough timing loop for the CPU kernel while it is being optimized (the real
// benchmark lives in bench/): one 32x64x56x56 problem, forward training, forward
// eval and backward training, both layouts, best of 7 calls through the ABI on
// preallocated buffers. Prints wall and process CPU time (CPU time is the steadier
// figure on a shared machine) and the memory traffic the operation needs.
//   build/dev/impl/cpu/time_cpu_kernel [threads] [f32|f64|bf16]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "impl/cpu/cpu_kernel.hpp"

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  const bool f64 = argc > 2 && std::string(argv[2]) == "f64";
  const bool bf16 = argc > 2 && std::string(argv[2]) == "bf16";  // f32 statistics
  bnconform::cpu::set_thread_count(threads);
  const bnc_kernel* k = bnconform::cpu::cpu_kernel();
  std::int64_t shape[4] = {32, 64, 56, 56};
  const std::size_t n = 32u * 64u * 56u * 56u, channels = 64;
  const std::size_t size = f64 ? 8 : bf16 ? 2 : 4;
  std::vector<unsigned char> x(n * size), y(n * size), dy(n * size), dx(n * size);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>((i * 2654435761u) % 1000u) / 100.0;
    const float f = static_cast<float>(v);
    if (f64) {
      std::memcpy(&x[i * 8], &v, 8);
    } else if (bf16) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      const auto top = static_cast<std::uint16_t>(bits >> 16);  // truncation will do here
      std::memcpy(&x[i * 2], &top, 2);
    } else {
      std::memcpy(&x[i * 4], &f, 4);
    }
  }
  dy = x;
  std::vector<double> stats(8 * channels, 1.0);  // big enough for f64 statistics
  std::int64_t count = 0;
  char message[256];
  std::printf("cpu kernel, variant %s, %d thread(s)\n", bnconform::cpu::variant_name(),
              bnconform::cpu::thread_count());
  for (int layout = 0; layout < 2; ++layout) {
    for (int op = 0; op < 3; ++op) {
      bnc_problem p{};
      p.struct_size = sizeof p;
      p.rank = 4;
      p.shape = shape;
      p.layout = layout == 0 ? BNC_LAYOUT_CHANNELS_FIRST : BNC_LAYOUT_CHANNELS_LAST;
      p.data_dtype = f64 ? BNC_DTYPE_F64 : bf16 ? BNC_DTYPE_BF16 : BNC_DTYPE_F32;
      p.stats_dtype = f64 ? BNC_DTYPE_F64 : BNC_DTYPE_F32;
      p.mode = op == 1 ? BNC_MODE_EVAL : BNC_MODE_TRAINING;
      p.eps = 1e-5;
      p.momentum = 0.1;
      p.affine = 1;
      p.track_running_stats = 1;
      double best_wall = 1e9, best_cpu = 1e9;
      for (int rep = 0; rep < 7; ++rep) {
        const double c0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        bnc_status s;
        if (op < 2) {
          bnc_forward_args a{};
          a.struct_size = sizeof a;
          a.x = x.data();
          a.y = y.data();
          a.gamma = &stats[0];
          a.beta = &stats[channels];
          a.running_mean = &stats[2 * channels];
          a.running_var = &stats[3 * channels];
          if (op == 0) {
            a.save_mean = &stats[4 * channels];
            a.save_invstd = &stats[5 * channels];
          }
          a.num_batches_tracked = &count;
          s = k->forward(k->context, &p, &a, message, sizeof message);
        } else {
          bnc_backward_args a{};
          a.struct_size = sizeof a;
          a.x = x.data();
          a.dy = dy.data();
          a.dx = dx.data();
          a.gamma = &stats[0];
          a.save_mean = &stats[4 * channels];
          a.save_invstd = &stats[5 * channels];
          a.dgamma = &stats[6 * channels];
          a.dbeta = &stats[7 * channels];
          s = k->backward(k->context, &p, &a, message, sizeof message);
        }
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds() - c0;
        if (s != BNC_STATUS_OK) {
          std::printf("status %d: %s\n", static_cast<int>(s), message);
          return 1;
        }
        if (wall < best_wall) best_wall = wall;
        if (cpu < best_cpu) best_cpu = cpu;
      }
      const double passes = op == 0 ? 3.0 : op == 1 ? 2.0 : 5.0;
      std::printf("%s %s %-9s wall %7.2f ms  cpu %7.2f ms  (%s of %.1f MB: %.1f GB/s)\n",
                  f64    ? "f64"
                  : bf16 ? "bf16"
                         : "f32",
                  layout == 0 ? "NCHW" : "NHWC",
                  op == 0   ? "fwd-train"
                  : op == 1 ? "fwd-eval"
                            : "bwd-train",
                  best_wall * 1e3, best_cpu * 1e3,
                  op == 0   ? "2 reads + 1 write"
                  : op == 1 ? "1 read + 1 write"
                            : "4 reads + 1 write",
                  static_cast<double>(n * size) / 1e6,
                  passes * static_cast<double>(n * size) / best_wall / 1e9);
    }
  }
  return 0;
}
