#pragma once
// The compute headers are compiled once per instruction-set variant (variant.cpp,
// CMakeLists.txt). Each compilation puts them in its own inline namespace, so that
// the linker never merges an AVX2 instantiation with a baseline one (templates and
// inline functions are weak symbols: without this, one variant's code silently
// replaces the other's, and a baseline CPU could run AVX2 instructions).
// Outside a variant build (tests of the conversions) the namespace is "portable".
#ifndef BNCONFORM_CPU_ISA
#define BNCONFORM_CPU_ISA portable
#endif
