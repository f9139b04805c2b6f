#include "reference.hpp"

#include <array>

#include "checked.hpp"
#include "core/error.hpp"

namespace bnconform::reference {

BNCONFORM_DECLARE_REFERENCE(128)
BNCONFORM_DECLARE_REFERENCE(256)
BNCONFORM_DECLARE_REFERENCE(512)
BNCONFORM_DECLARE_REFERENCE(1024)

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

forward_result forward(const problem& p, const call_inputs& in, const options& opt) {
  if (auto failure = validate(p, in, false)) {
    forward_result r;
    r.status = *failure;
    return r;
  }
  return dispatch<forward_result>(
      opt.precision_bits, [&](auto bits) { return checked_forward<decltype(bits)::value>(p, in); });
}

backward_result backward(const problem& p, const call_inputs& in, const options& opt) {
  if (auto failure = validate(p, in, true)) {
    backward_result r;
    r.status = *failure;
    return r;
  }
  return dispatch<backward_result>(opt.precision_bits, [&](auto bits) {
    return checked_backward<decltype(bits)::value>(p, in);
  });
}

std::vector<channel_quantities> quantities(const problem& p, const call_inputs& in,
                                           const options& opt) {
  if (auto failure = validate(p, in, !in.dy.empty())) report_error(failure->message);
  return dispatch<std::vector<channel_quantities>>(opt.precision_bits, [&](auto bits) {
    return checked_quantities<decltype(bits)::value>(p, in);
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
