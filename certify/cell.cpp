#include "cell.hpp"

#include <array>
#include <cstdint>
#include <sstream>

#include "core/kernel.hpp"

namespace bnconform::certify {

namespace {

struct named_operation {
  std::uint32_t bit;
  std::string_view name;
};

constexpr std::array<named_operation, 4> operations{{
    {BNC_OP_FORWARD_TRAINING, "forward-training"},
    {BNC_OP_FORWARD_EVAL, "forward-eval"},
    {BNC_OP_BACKWARD_TRAINING, "backward-training"},
    {BNC_OP_BACKWARD_EVAL, "backward-eval"},
}};

constexpr std::array<dtype, 4> dtypes{dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
constexpr std::array<layout, 2> layouts{layout::channels_first, layout::channels_last};

std::uint32_t bit_of(dtype t) { return BNC_BIT(static_cast<unsigned>(t)); }
std::uint32_t bit_of(layout l) { return BNC_BIT(static_cast<unsigned>(l)); }

}  // namespace

std::string_view operation_name(std::uint32_t operation) {
  for (const named_operation& o : operations) {
    if (o.bit == operation) return o.name;
  }
  return "unknown-operation";
}

std::optional<std::uint32_t> parse_operation(std::string_view name) {
  for (const named_operation& o : operations) {
    if (o.name == name) return o.bit;
  }
  return std::nullopt;
}

std::string to_string(const cell& c) {
  return std::string(operation_name(c.operation)) + " " + std::string(name_of(c.data_type)) + " " +
         std::string(name_of(c.memory_layout));
}

std::optional<cell> parse_cell(std::string_view text) {
  for (const cell& c : all_cells()) {
    if (to_string(c) == text) return c;
  }
  return std::nullopt;
}

cell cell_of(const problem& p, bool backward) {
  return {operation_of(p, backward), p.data_type(), p.layout()};
}

std::vector<cell> all_cells() {
  std::vector<cell> out;
  for (const named_operation& o : operations) {
    for (const dtype t : dtypes) {
      for (const layout l : layouts) out.push_back({o.bit, t, l});
    }
  }
  return out;
}

bool declared(const bnc_capabilities& caps, const cell& c) {
  // The enum values are the ABI's bit positions (core/dtype.hpp, core/problem.hpp).
  return (caps.operations & c.operation) != 0 && (caps.dtypes & bit_of(c.data_type)) != 0 &&
         (caps.layouts & bit_of(c.memory_layout)) != 0;
}

std::string capabilities_text(const bnc_capabilities& c) {
  std::ostringstream out;
  out << "operations:";
  for (const std::uint32_t op : {BNC_OP_FORWARD_TRAINING, BNC_OP_FORWARD_EVAL,
                                 BNC_OP_BACKWARD_TRAINING, BNC_OP_BACKWARD_EVAL}) {
    if ((c.operations & op) != 0) out << ' ' << operation_name(op);
  }
  out << "; dtypes:";
  for (const dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    if ((c.dtypes & BNC_BIT(static_cast<unsigned>(t))) != 0) out << ' ' << name_of(t);
  }
  out << "; layouts:";
  for (const layout l : {layout::channels_first, layout::channels_last}) {
    if ((c.layouts & BNC_BIT(static_cast<unsigned>(l))) != 0) out << ' ' << name_of(l);
  }
  out << "; ranks " << c.min_rank << ".."
      << (c.max_rank == INT32_MAX ? std::string("any") : std::to_string(c.max_rank)) << "; "
      << (c.memory == BNC_MEMORY_DEVICE ? "device" : "host") << " memory";
  return out.str();
}

std::string nothing_to_judge(const bnc_capabilities& c, bool memory_available) {
  std::uint32_t all_operations = 0;
  for (const named_operation& o : operations) all_operations |= o.bit;
  std::uint32_t all_dtypes = 0;
  for (const dtype t : dtypes) all_dtypes |= bit_of(t);
  const std::uint32_t all_layouts = bit_of(layout::channels_first) | bit_of(layout::channels_last);
  if ((c.operations & all_operations) == 0) {
    return "the kernel declares no operation (capabilities.operations holds none of "
           "BNC_OP_FORWARD_TRAINING, _FORWARD_EVAL, _BACKWARD_TRAINING, _BACKWARD_EVAL)";
  }
  if ((c.dtypes & all_dtypes) == 0) return "the kernel declares no data type (capabilities.dtypes)";
  if ((c.layouts & all_layouts) == 0) return "the kernel declares no layout (capabilities.layouts)";
  if (c.min_rank > c.max_rank) {
    return "the kernel declares an empty rank range (min_rank " + std::to_string(c.min_rank) +
           " > max_rank " + std::to_string(c.max_rank) + ")";
  }
  if (c.max_rank < 2) {
    return "the kernel declares no rank of 2 or more (max_rank " + std::to_string(c.max_rank) +
           "; every call has rank >= 2)";
  }
  if (!memory_available) {
    return "the kernel declares device memory and no device is available";
  }
  return {};
}

}  // namespace bnconform::certify
