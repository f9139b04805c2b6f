#include "reference.hpp"

#include <array>
#include <atomic>

#include "checked.hpp"
#include "core/error.hpp"
#include "exact/exact_engine.hpp"

namespace bnconform::reference {

BNCONFORM_DECLARE_REFERENCE(128)
BNCONFORM_DECLARE_REFERENCE(256)
BNCONFORM_DECLARE_REFERENCE(512)
BNCONFORM_DECLARE_REFERENCE(1024)

namespace exact {
#define BNCONFORM_DECLARE_EXACT(BITS)                                                           \
  extern template forward_result exact_forward<BITS>(const problem&, const call_inputs&, bool); \
  extern template backward_result exact_backward<BITS>(const problem&, const call_inputs&);     \
  extern template std::vector<channel_quantities> exact_quantities<BITS>(const problem&,        \
                                                                         const call_inputs&);
BNCONFORM_DECLARE_EXACT(128)
BNCONFORM_DECLARE_EXACT(256)
BNCONFORM_DECLARE_EXACT(512)
BNCONFORM_DECLARE_EXACT(1024)
}  // namespace exact

namespace {

constexpr std::array<int, 4> precisions = {128, 256, 512, 1024};

template <class Result, class F>
Result dispatch(int bits, F&& f) {
  switch (bits) {
    case 128: return f(std::integral_constant<unsigned, 128>{});
    case 256: return f(std::integral_constant<unsigned, 256>{});
    case 512: return f(std::integral_constant<unsigned, 512>{});
    case 1024: return f(std::integral_constant<unsigned, 1024>{});
    default: break;
  }
  report_error("reference precision " + std::to_string(bits) +
               " bits is not built (choose 128, 256, 512 or 1024)");
}

}  // namespace

std::span<const int> supported_precisions() { return precisions; }

std::string_view name_of(oracle o) { return o == oracle::exact ? "exact" : "multiprecision"; }

namespace {
std::atomic<oracle> process_oracle{oracle::exact};
}  // namespace

oracle default_oracle() { return process_oracle.load(std::memory_order_relaxed); }
void set_default_oracle(oracle o) { process_oracle.store(o, std::memory_order_relaxed); }

std::optional<oracle> parse_oracle(std::string_view name) {
  if (name == "exact") return oracle::exact;
  if (name == "multiprecision") return oracle::multiprecision;
  return std::nullopt;
}

namespace {

// The forward call, with or without y (the multiprecision engine always forms it).
forward_result forward_of(const problem& p, const call_inputs& in, const options& opt,
                          bool with_y) {
  if (auto failure = validate(p, in, false)) {
    forward_result r;
    r.status = *failure;
    return r;
  }
  return dispatch<forward_result>(opt.precision_bits, [&](auto bits) {
    constexpr unsigned b = decltype(bits)::value;
    return opt.engine == oracle::exact ? exact::exact_forward<b>(p, in, with_y)
                                       : checked_forward<b>(p, in);
  });
}

}  // namespace

forward_result forward(const problem& p, const call_inputs& in, const options& opt) {
  return forward_of(p, in, opt, true);
}

forward_result forward_statistics(const problem& p, const call_inputs& in, const options& opt) {
  return forward_of(p, in, opt, false);
}

backward_result backward(const problem& p, const call_inputs& in, const options& opt) {
  if (auto failure = validate(p, in, true)) {
    backward_result r;
    r.status = *failure;
    return r;
  }
  return dispatch<backward_result>(opt.precision_bits, [&](auto bits) {
    constexpr unsigned b = decltype(bits)::value;
    return opt.engine == oracle::exact ? exact::exact_backward<b>(p, in)
                                       : checked_backward<b>(p, in);
  });
}

std::vector<channel_quantities> quantities(const problem& p, const call_inputs& in,
                                           const options& opt) {
  if (auto failure = validate(p, in, !in.dy.empty())) report_error(failure->message);
  return dispatch<std::vector<channel_quantities>>(opt.precision_bits, [&](auto bits) {
    constexpr unsigned b = decltype(bits)::value;
    return opt.engine == oracle::exact ? exact::exact_quantities<b>(p, in)
                                       : checked_quantities<b>(p, in);
  });
}

call_inputs call_inputs::from(const tensor& x, const tensor& dy, const module_state& state) {
  call_inputs in;
  in.x = x.values();
  in.dy = dy.values();
  in.gamma = state.gamma.values();
  in.beta = state.beta.values();
  in.running_mean = state.running_mean.values();
  in.running_var = state.running_var.values();
  in.num_batches_tracked = state.num_batches_tracked;
  return in;
}

}  // namespace bnconform::reference
