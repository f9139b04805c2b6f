#pragma once
// Certification levels, verdicts, and the unit roundoffs the error model uses
// (docs/error-model.md).
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/dtype.hpp"
#include "core/problem.hpp"

namespace bnconform::check {

enum class level { strict, standard };
std::string_view name_of(level l);
std::optional<level> parse_level(std::string_view text);

enum class verdict { pass, fail, mistrusted, ill_posed, unsupported, crashed, timed_out };
std::string_view name_of(verdict v);
verdict parse_verdict(std::string_view text);  // throws bnconform::error
// How bad a verdict is, for folding several into one (the worst decides): pass,
// ill-posed, unsupported, mistrusted, timed-out, crashed, fail.
int severity(verdict v);
// A verdict against the kernel: fail, crashed or timed-out. Everything else
// (pass, ill-posed, unsupported, mistrusted) is not the kernel's failure.
bool is_failure(verdict v);

// u_c: the compute precision a kernel for this problem claims. f64 data computes
// in f64; f32, f16 and bf16 data compute in f32 (tolerance.md).
double compute_unit(const problem& p);
// u_o: unit roundoff of a storage format (2^-53, 2^-24, 2^-11, 2^-8).
double storage_unit(dtype t);
// K: the reduction factor of a level for reductions of length m: 4 at strict,
// 2 + ceil(log2 m) at standard.
double reduction_factor(level l, std::int64_t m);

}  // namespace bnconform::check
