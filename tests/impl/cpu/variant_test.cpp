// The instruction-set variants: the best one the CPU supports is active, and every
// variant gives the same bits (contraction is off and the lanes of every sum are
// explicit, so vector width never changes the arithmetic).
#include "impl/cpu/variant.hpp"

#include <gtest/gtest.h>

#if defined(BNCONFORM_CPU_HAVE_V4)
#include <cpuid.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "impl/cpu/call_plan.hpp"
#include "impl/cpu/storage.hpp"
#include "impl/cpu/streaming.hpp"
#include "support.hpp"

namespace bnconform::testing {
namespace {

TEST(CpuVariants, TheBestSupportedVariantIsActive) {
  const std::vector<const cpu::variant*> runnable = cpu::runnable_variants();
  ASSERT_FALSE(runnable.empty());
  EXPECT_STREQ(runnable.front()->name, "baseline");
  if (std::getenv("BNCONFORM_CPU_VARIANT") == nullptr) {
    EXPECT_STREQ(cpu::variant_name(), runnable.back()->name);
  }
#if defined(BNCONFORM_CPU_HAVE_V4)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    // AVX512-BF16: CPUID leaf 7, sub-leaf 1, EAX bit 5.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool bf16 = __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && (eax & 32u) != 0;
    EXPECT_STREQ(runnable.back()->name, bf16 ? "x86-64-v4-bf16" : "x86-64-v4");
    if (bf16) {
      EXPECT_STREQ(runnable[runnable.size() - 2]->name, "x86-64-v4");
    }
  }
#endif
}

// The bf16 conversions of each variant (AVX2 intrinsics in x86-64-v3, AVX-512 in
// x86-64-v4, the scalar functions in the baseline) against the scalar ones of storage.hpp, bit for
// bit: widening on every pattern; narrowing on every bf16 value, its ties (low half 0x8000) and
// their neighbours, and random f32 patterns (NaNs with payloads only in the low half included).
TEST(CpuVariants, Bf16ConversionsMatchTheScalarOnes) {
  const std::vector<const cpu::variant*> variants = cpu::runnable_variants();
  std::vector<std::uint16_t> patterns(65536 + 5);  // + 5: a scalar tail after the vectors
  for (std::size_t i = 0; i < patterns.size(); ++i) patterns[i] = static_cast<std::uint16_t>(i);
  std::vector<float> values;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    for (std::uint32_t low : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu})
      values.push_back(std::bit_cast<float>(b << 16 | low));
  }
  random_source rng(5);
  for (int i = 0; i < 100003; ++i)
    values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng.next())));
  for (const cpu::variant* v : variants) {
    std::vector<float> wide(patterns.size());
    v->widen_bf16(patterns.data(), wide.data(), static_cast<std::int64_t>(patterns.size()));
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(wide[i]),
                std::bit_cast<std::uint32_t>(cpu::widen(cpu::bf16_bits{patterns[i]})))
          << v->name << " " << i;
    }
    std::vector<std::uint16_t> narrow(values.size());
    v->narrow_bf16(values.data(), narrow.data(), static_cast<std::int64_t>(values.size()));
    for (std::size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(narrow[i], cpu::narrow_bf16(values[i]).bits)
          << v->name << " " << std::hexfloat << values[i];
    }
    // Short runs, so that the last values of a run take the masked step (x86-64-v4
    // variants) rather than a whole one: subnormals among them (the AVX512-BF16
    // instruction flushes those), every length up to two whole steps and a part.
    const std::vector<float> mixed = {
        0x1p-130f, 1.5f, -0x1.8p-127f, 0x1.0002p-134f, -2.75f, 0x1.fffffep-127f, 0x1p-149f, 3.0f};
    for (std::size_t n = 1; n <= 80; ++n) {
      std::vector<float> in(n);
      for (std::size_t i = 0; i < n; ++i) in[i] = mixed[(i * 5 + n) % mixed.size()];
      std::vector<std::uint16_t> out(n);
      v->narrow_bf16(in.data(), out.data(), static_cast<std::int64_t>(n));
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], cpu::narrow_bf16(in[i]).bits)
            << v->name << " length " << n << " " << std::hexfloat << in[i];
      }
    }
  }
}

// Runs one variant's forward and backward on copies of the same buffers.
struct raw_run {
  std::vector<unsigned char> y, dx;
  std::vector<double> stats;  // save_mean, save_invstd, running_mean, running_var, dgamma, dbeta
};

// y and dx are written `shift` bytes past a 64-byte boundary (the streaming stores
// of streaming.hpp align themselves on the output).
raw_run run_variant(const cpu::variant& v, const problem& p, const tensor& x, const tensor& dy,
                    const module_state& s, std::size_t shift = 0) {
  raw_run out;
  const std::size_t c = static_cast<std::size_t>(p.channels());
  std::vector<unsigned char> y_buffer(x.byte_size() + 128), dx_buffer(y_buffer);
  auto at = [shift](std::vector<unsigned char>& buffer) {
    const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
    return buffer.data() + ((64 - address % 64) % 64 + shift);
  };
  unsigned char* const y = at(y_buffer);
  unsigned char* const dx = at(dx_buffer);
  tensor save_mean(p.stats_type(), p.channels()), save_invstd(save_mean),
      rm = s.running_mean, rv = s.running_var, dgamma(save_mean), dbeta(save_mean);
  std::int64_t count = s.num_batches_tracked;
  const bnc_problem d = p.to_abi();
  bnc_forward_args f{};
  f.struct_size = sizeof f;
  f.x = x.data();
  f.y = y;
  f.gamma = s.gamma.data();
  f.beta = s.beta.data();
  f.running_mean = rm.data();
  f.running_var = rv.data();
  const bool batch = p.uses_batch_statistics();
  f.save_mean = batch ? save_mean.data() : nullptr;
  f.save_invstd = batch ? save_invstd.data() : nullptr;
  f.num_batches_tracked = &count;
  cpu::forward_plan fp;
  EXPECT_TRUE(cpu::validate_forward(&d, &f, fp).ok());
  v.forward(fp);
  bnc_backward_args b{};
  b.struct_size = sizeof b;
  b.x = x.data();
  b.dy = dy.data();
  b.dx = dx;
  b.gamma = s.gamma.data();
  b.save_mean = batch ? save_mean.data() : nullptr;
  b.save_invstd = batch ? save_invstd.data() : nullptr;
  b.running_mean = batch ? nullptr : rm.data();
  b.running_var = batch ? nullptr : rv.data();
  b.dgamma = dgamma.data();
  b.dbeta = dbeta.data();
  cpu::backward_plan bp;
  EXPECT_TRUE(cpu::validate_backward(&d, &b, bp).ok());
  v.backward(bp);
  out.y.assign(y, y + x.byte_size());
  out.dx.assign(dx, dx + x.byte_size());
  for (const tensor* t : {&save_mean, &save_invstd, &rm, &rv, &dgamma, &dbeta})
    for (std::size_t i = 0; i < c; ++i) out.stats.push_back(t->get(static_cast<std::int64_t>(i)));
  return out;
}

// A problem and random inputs for it.
struct call_inputs {
  problem p;
  tensor x, dy;
  module_state s;
  call_inputs(const char* shape, const char* dt, const char* layout, const char* mode,
              std::uint64_t seed)
      : p(problem::parse(std::string("shape=") + shape + ",dtype=" + dt + ",layout=" + layout +
                         ",mode=" + mode)) {
    random_source rng(seed);
    x = random_data(rng, p, 50, 3);
    dy = random_data(rng, p, 0, 1);
    s = random_state(rng, p);
  }
};

void expect_same_run(const raw_run& a, const raw_run& b, const std::string& where) {
  EXPECT_EQ(a.y, b.y) << where;
  EXPECT_EQ(a.dx, b.dx) << where;
  ASSERT_EQ(a.stats.size(), b.stats.size());
  EXPECT_EQ(0, std::memcmp(a.stats.data(), b.stats.data(), a.stats.size() * sizeof(double)))
      << where;
}

// Sets the output size from which the passes stream, for the life of the guard.
struct streaming_threshold_guard {
  explicit streaming_threshold_guard(std::int64_t bytes) { cpu::set_streaming_threshold(bytes); }
  ~streaming_threshold_guard() { cpu::set_streaming_threshold(-1); }
  streaming_threshold_guard(const streaming_threshold_guard&) = delete;
  streaming_threshold_guard& operator=(const streaming_threshold_guard&) = delete;
};

TEST(CpuVariants, EveryVariantGivesTheBaselinesBits) {
  const std::vector<const cpu::variant*> runnable = cpu::runnable_variants();
  if (runnable.size() < 2) GTEST_SKIP() << "this CPU runs the baseline variant only";
  // With the default threshold these outputs are small and never stream; with 0
  // the channels-last passes of x86-64-v4 stream wherever C >= 32.
  for (const std::int64_t threshold : {std::int64_t{-1}, std::int64_t{0}}) {
    const streaming_threshold_guard streaming(threshold);
    for (const char* dt : {"f32", "f64", "f16", "bf16"}) {
      for (const char* layout : {"channels_first", "channels_last"}) {
        for (const char* mode : {"train", "eval"}) {
          // Vectors of 16 or 32 and their tails; 300 channels make two channels-last
          // tiles, and 64 channels one run of AVX-512 registers, whose sums run
          // through tile_sums::add_rows.
          for (const char* shape : {"3x5x31x29", "4x37x5x3", "2x77x9x7", "2x300x5x3", "3x64x5x7"}) {
            const call_inputs in(shape, dt, layout, mode, 21);
            const raw_run a = run_variant(cpu::variants::baseline(), in.p, in.x, in.dy, in.s);
            for (std::size_t k = 1; k < runnable.size(); ++k) {
              expect_same_run(a, run_variant(*runnable[k], in.p, in.x, in.dy, in.s),
                              in.p.to_string() + " " + runnable[k]->name + " streaming threshold " +
                                  std::to_string(threshold));
            }
          }
        }
      }
    }
  }
}

// Streaming stores (streaming.hpp) start at the first 64-byte boundary of the
// output (of each row, channels-first) and take the values before it one at a time:
// outputs at every offset from a boundary give the bits of the passes that do not
// stream, in every variant. Channels-first rows stream from 256 values on.
TEST(CpuVariants, StreamedOutputsGiveTheSameBitsAtEveryAlignment) {
  const std::pair<const char*, const char*> cases[] = {{"3x37x7x5", "channels_last"},
                                                       {"2x64x9x7", "channels_last"},
                                                       {"2x300x5x3", "channels_last"},
                                                       {"2x3x17x16", "channels_first"},
                                                       {"2x5x300", "channels_first"}};
  for (const char* dt : {"f32", "bf16"}) {
    for (const char* mode : {"train", "eval"}) {
      for (const auto& [shape, layout] : cases) {
        const call_inputs in(shape, dt, layout, mode, 22);
        for (const cpu::variant* v : cpu::runnable_variants()) {
          const raw_run plain = run_variant(*v, in.p, in.x, in.dy, in.s);
          const streaming_threshold_guard streaming(0);
          for (std::size_t shift = 0; shift < 64; shift += size_of(in.p.data_type())) {
            expect_same_run(
                plain, run_variant(*v, in.p, in.x, in.dy, in.s, shift),
                in.p.to_string() + " " + v->name + " output at 64k + " + std::to_string(shift));
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace bnconform::testing
