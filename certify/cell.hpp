#pragma once
// One row of certify's summary table: an operation of the kernel ABI on one data
// type and one layout. Every judged call belongs to exactly one cell.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "core/dtype.hpp"
#include "core/problem.hpp"

namespace bnconform::certify {

struct cell {
  std::uint32_t operation = BNC_OP_FORWARD_TRAINING;  // one BNC_OP_* bit
  dtype data_type = dtype::f32;
  bnconform::layout memory_layout = bnconform::layout::channels_first;

  auto operator<=>(const cell&) const = default;
};

// "forward-training", "forward-eval", "backward-training", "backward-eval".
std::string_view operation_name(std::uint32_t operation);
std::optional<std::uint32_t> parse_operation(std::string_view name);
// "forward-training f32 channels_first".
std::string to_string(const cell& c);
std::optional<cell> parse_cell(std::string_view text);

// The cell of a forward or backward call of p (operation_of decides the mode's bit).
cell cell_of(const problem& p, bool backward);
// Every cell the ABI can express, in table order: operation, then dtype, then layout.
std::vector<cell> all_cells();
// Whether the capabilities declare the operation, the dtype and the layout.
bool declared(const bnc_capabilities& caps, const cell& c);
// "operations: forward-training ...; dtypes: f32; layouts: ...; ranks 2..any; host memory".
std::string capabilities_text(const bnc_capabilities& c);
// Why a declaration leaves certify nothing to judge, or empty when it leaves
// something: no operation, data type or layout; no rank of 2 or more in
// [min_rank, max_rank]; device memory with no device (`memory_available` false).
// (A profile the kernel does not declare is "not implemented", decided before.)
std::string nothing_to_judge(const bnc_capabilities& c, bool memory_available);

}  // namespace bnconform::certify
