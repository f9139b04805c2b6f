// bnconform.load_golden: a golden file (golden/README.md), checksum verified, with
// its inputs and exact expected outputs as numpy arrays.
#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "golden/golden_file.hpp"
#include "results.hpp"

namespace bnconform::python {

namespace {

py::dict step_inputs(const case_file& c, const case_step& s) {
  py::dict d;
  d["op"] = std::string(name_of(s.op));
  d["problem"] = s.prob.to_string();
  if (s.x) d["x"] = data_array(s.prob, *s.x);
  if (s.op == step_op::backward) {
    if (!s.x && s.latest_forward) d["x"] = data_array(s.prob, *c.steps[*s.latest_forward].x);
    d["dy"] = data_array(s.prob, s.dy);
    if (s.save_mean) d["save_mean"] = channel_array(*s.save_mean);
    if (s.save_invstd) d["save_invstd"] = channel_array(*s.save_invstd);
  }
  return d;
}

py::dict load_golden(const std::string& path) {
  const golden::golden_case g = golden::read_golden_file(path);
  py::dict d;
  d["name"] = g.name;
  d["problem"] = g.inputs.base.to_string();
  d["state"] = state_dict(g.inputs.base, g.inputs.state);
  py::list steps;
  for (const case_step& s : g.inputs.steps) steps.append(step_inputs(g.inputs, s));
  d["steps"] = steps;
  py::list expected;
  for (const step_result& s : g.expected.steps) expected.append(step_dict(s));
  d["expected"] = expected;
  return d;
}

}  // namespace

void bind_golden(py::module_& m) {
  m.def("load_golden", &load_golden, py::arg("path"),
        "Reads a golden file and verifies its checksum: a dict of name, problem, state (the "
        "initial module state), steps (each op, problem, x, dy, ...) and expected (each step's "
        "status, message, outputs and, for forward steps, state), every value exact.");
}

}  // namespace bnconform::python
