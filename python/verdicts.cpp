// bnconform.check: a call's outputs judged against the exact reference by the
// error model (docs/error-model.md), as certify judges a kernel's.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "check/compare.hpp"
#include "check/level.hpp"
#include "core/error.hpp"
#include "reference/reference.hpp"
#include "results.hpp"

namespace bnconform::python {

namespace {

py::object item(const py::dict& d, const char* key) {
  if (!d.contains(key)) return py::none();
  return d[key];
}

void expect_keys(const py::dict& d, const std::string& where,
                 std::initializer_list<const char*> known) {
  for (const auto& kv : d) {
    const auto key = kv.first.cast<std::string>();
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw py::value_error(where + ": unknown key '" + key + "' (known: " + list + ")");
    }
  }
}

tensor required_data(const problem& p, const py::dict& d, const char* key,
                     const std::string& where) {
  if (!d.contains(key)) throw py::value_error(where + ": \"" + key + "\" is required");
  return data_tensor(p, d[key], where + "." + key);
}

tensor required_channel(const problem& p, const py::dict& d, const char* key,
                        const std::string& where) {
  if (!d.contains(key)) {
    throw py::value_error(where + ": \"" + key + "\" is required for " + p.to_string());
  }
  return channel_tensor(p, d[key], where + "." + key);
}

check::options options_at(const std::string& level_name) {
  const std::optional<check::level> l = check::parse_level(level_name);
  if (!l)
    throw py::value_error("level: unknown '" + level_name + "' (expected strict or standard)");
  check::options o;
  o.judged_at = *l;
  o.check_determinism = false;
  return o;
}

check::comparison judge_forward(const problem& p, const tensor& x, const module_state& before,
                                const py::dict& outputs, const check::options& opt) {
  expect_keys(outputs, "outputs",
              {"y", "save_mean", "save_invstd", "running_mean", "running_var",
               "num_batches_tracked", "ill_posed_channels"});
  forward_outputs got;
  got.y = required_data(p, outputs, "y", "outputs");
  if (p.uses_batch_statistics()) {
    got.save_mean = required_channel(p, outputs, "save_mean", "outputs");
    got.save_invstd = required_channel(p, outputs, "save_invstd", "outputs");
  }
  module_state after = before;
  const bool moves = p.track_running_stats() && p.mode() == mode::training;
  if (moves) {
    after.running_mean = required_channel(p, outputs, "running_mean", "outputs");
    after.running_var = required_channel(p, outputs, "running_var", "outputs");
    // A kernel that leaves the counter to its caller: the harness's increment.
    after.num_batches_tracked = outputs.contains("num_batches_tracked")
                                    ? outputs["num_batches_tracked"].cast<std::int64_t>()
                                    : before.num_batches_tracked + 1;
  }
  const reference::call_inputs in = reference::call_inputs::from(x, tensor(), before);
  return check::with_enough_precision(opt, [&](const check::options& o) {
    const reference::options ref{o.reference_bits};
    const reference::forward_result expected = reference::forward(p, in, ref);
    const std::vector<reference::channel_quantities> q =
        expected.status.ok() ? reference::quantities(p, in, ref)
                             : std::vector<reference::channel_quantities>{};
    return check::compare_forward(p, x, before, expected, q, got, after, o);
  });
}

check::comparison judge_backward(const problem& p, const tensor& x, const tensor& dy,
                                 const module_state& state, const py::dict& outputs,
                                 const check::options& opt) {
  expect_keys(outputs, "outputs", {"dx", "dgamma", "dbeta", "ill_posed_channels"});
  backward_outputs got;
  got.dx = required_data(p, outputs, "dx", "outputs");
  if (p.affine()) {
    got.dgamma = required_channel(p, outputs, "dgamma", "outputs");
    got.dbeta = required_channel(p, outputs, "dbeta", "outputs");
  }
  const reference::call_inputs in = reference::call_inputs::from(x, dy, state);
  return check::with_enough_precision(opt, [&](const check::options& o) {
    const reference::options ref{o.reference_bits};
    const reference::backward_result expected = reference::backward(p, in, ref);
    const std::vector<reference::channel_quantities> q =
        expected.status.ok() ? reference::quantities(p, in, ref)
                             : std::vector<reference::channel_quantities>{};
    return check::compare_backward(p, x, dy, state, expected, q, got, o);
  });
}

check::comparison check_call(const py::handle& problem_object, const py::dict& inputs,
                             const py::dict& outputs, const std::string& level_name) {
  const problem p = problem_of(problem_object);
  expect_keys(inputs, "inputs",
              {"x", "dy", "gamma", "beta", "running_mean", "running_var", "num_batches_tracked"});
  const auto counter = inputs.contains("num_batches_tracked")
                           ? inputs["num_batches_tracked"].cast<std::int64_t>()
                           : std::int64_t{0};
  const module_state state =
      state_from(p, item(inputs, "gamma"), item(inputs, "beta"), item(inputs, "running_mean"),
                 item(inputs, "running_var"), counter);
  const tensor x = required_data(p, inputs, "x", "inputs");
  const check::options opt = options_at(level_name);
  if (inputs.contains("dy")) {
    return judge_backward(p, x, required_data(p, inputs, "dy", "inputs"), state, outputs, opt);
  }
  return judge_forward(p, x, state, outputs, opt);
}

}  // namespace

void bind_check(py::module_& m) {
  py::class_<check::comparison>(m, "Comparison",
                                "The error model's judgement of one call (bnconform.check).")
      .def_property_readonly("verdict",
                             [](const check::comparison& c) { return name_of(c.result); })
      .def_property_readonly("passed", &check::comparison::passed)
      .def_readonly("reason", &check::comparison::reason)
      .def_property_readonly("level",
                             [](const check::comparison& c) { return name_of(c.judged_at); })
      .def_readonly("worst_ratio", &check::comparison::worst_ratio)
      .def_readonly("worst_output", &check::comparison::worst_output)
      .def_readonly("worst_index", &check::comparison::worst_index)
      .def_readonly("ratios", &check::comparison::worst_ratio_by_output)
      .def_readonly("max_ulp", &check::comparison::max_ulp)
      .def_readonly("first_mismatches", &check::comparison::first_mismatches)
      .def_readonly("notes", &check::comparison::notes)
      .def("describe", &check::comparison::describe)
      .def("__repr__", [](const check::comparison& c) {
        return "<bnconform.Comparison " + std::string(name_of(c.result)) + ": " + c.reason + ">";
      });
  m.def("check", &check_call, py::arg("problem"), py::arg("inputs"), py::arg("outputs"),
        py::kw_only(), py::arg("level") = "strict",
        "Judges a call's outputs against the exact reference with the error model. inputs: x, "
        "and gamma, beta, running_mean, running_var, num_batches_tracked (PyTorch's initial "
        "values where absent); with dy it is a backward call. outputs: y, save_mean, "
        "save_invstd, running_mean, running_var (num_batches_tracked: the caller's increment "
        "where absent), or dx, dgamma, dbeta. Returns a Comparison: verdict, passed, reason, "
        "worst_ratio and ratios, the worst budget ratio of each output.");
}

}  // namespace bnconform::python
