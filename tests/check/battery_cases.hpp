#pragma once
// A small fixed set of calls that exercises every feature the mutant zoo breaks:
// both layouts, training and eval, backward, momentum=None with a history, a
// counter near 2^24, offset data, a channel count past a vector's width. Shared by the error-model
// and zoo tests.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "reference/support.hpp"

namespace bnconform::testing {

struct battery_case {
  std::string problem;
  double offset = 0;  // x = offset + N(0, 1)
  std::int64_t counter = 0;
  bool backward = false;
  bool random_state = false;  // gamma, beta and running statistics not at their defaults
};

inline double normal(random_source& rng) {
  const double u1 = rng.uniform(0x1p-53, 1.0);
  const double u2 = rng.uniform(0.0, 1.0);
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

inline std::vector<battery_case> battery_cases() {
  return {
      {"shape=8x3x5x4,dtype=f32", 3, 0, false, true},
      {"shape=8x3x5x4,dtype=f32,layout=channels_last", 3, 0, false, true},
      {"shape=6x4x7,dtype=f64,layout=channels_last", -2, 0, false, true},
      {"shape=8x3x5x4,dtype=f32", 1, 0, true, true},
      {"shape=6x4x7,dtype=f64,layout=channels_last", 0, 0, true, true},
      {"shape=8x3x5x4,dtype=f32,mode=eval", 1, 0, false, true},
      {"shape=8x3x5x4,dtype=f32,mode=eval", 1, 0, true, true},
      {"shape=16x2x9,dtype=f32,momentum=none", 2, 3, false, true},
      {"shape=16x2x9,dtype=f32,momentum=0.25", 2, 16777216, false, true},
      {"shape=32x2x16,dtype=f32", 1000, 0, false, false},
      {"shape=4x2x3,dtype=f64,eps=0.5,momentum=none", 0.5, 0, false, true},
      // More channels than a 16-lane vector holds, with a remainder (24 = 16 + 8).
      {"shape=4x24x5x5,dtype=f32,layout=channels_last", 1, 0, false, true},
      // A long offset channel: plain f32 sums drift here.
      {"shape=4096x1x8,dtype=f32", 1e4, 0, false, false},
  };
}

struct battery_inputs {
  problem p;
  tensor x, dy;
  module_state state;
};

inline battery_inputs inputs_of(const battery_case& bc, std::uint64_t seed) {
  random_source rng(seed);
  battery_inputs in{problem::parse(bc.problem), {}, {}, {}};
  const problem& p = in.p;
  in.x = tensor(p.data_type(), p.element_count());
  in.dy = tensor(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    in.x.set(i, bc.offset + normal(rng));
    in.dy.set(i, normal(rng));
  }
  in.state = module_state::initial(p);
  in.state.num_batches_tracked = bc.counter;
  if (bc.random_state) {
    for (std::int64_t c = 0; c < in.state.gamma.size(); ++c) {
      in.state.gamma.set(c, rng.uniform(0.5, 2.0));
      in.state.beta.set(c, rng.uniform(-1.0, 1.0));
    }
    for (std::int64_t c = 0; c < in.state.running_mean.size(); ++c) {
      in.state.running_mean.set(c, rng.uniform(-1.0, 1.0));
      in.state.running_var.set(c, rng.uniform(0.5, 2.0));
    }
  }
  return in;
}

inline check::comparison run_case(const kernel& k, const battery_case& bc, check::level l,
                                  std::uint64_t seed = 1) {
  const battery_inputs in = inputs_of(bc, seed);
  check::options opt;
  opt.judged_at = l;
  return bc.backward ? check::run_backward(k, in.p, in.x, in.dy, in.state, opt)
                     : check::run_forward(k, in.p, in.x, in.state, opt);
}

}  // namespace bnconform::testing
