#pragma once
// Turns a case spec into a case file: the module state and the values of every
// step, drawn from SplitMix64 (core/splitmix64.hpp) seeded with the spec's seed,
// so the same spec gives the same bytes everywhere. The rules (golden/README.md):
//
//   fill:  BASE[+MOD...]   BASE: uniform | exact | constant=V | offset=V | scale=E
//                          MOD:  nan@C | inf@C | -inf@C | flat@C
//   state: pytorch | random, then +gamma=V +beta=V +rm=V +rv=V +counter=K
#include "core/case_file.hpp"
#include "spec.hpp"

namespace bnconform::golden {

// Throws bnconform::error naming the spec's origin for an unknown rule, a step
// list the case format rejects (a backward with no forward before it, ...), or a
// bad problem string.
case_file make_case(const case_spec& spec);

}  // namespace bnconform::golden
