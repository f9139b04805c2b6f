#include "results.hpp"

#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"

namespace bnconform::python {

namespace {

tensor given_or(const problem& p, const py::object& object, const char* name, bool present,
                tensor fallback) {
  if (object.is_none()) return fallback;
  if (!present) {
    throw py::value_error(
        std::string(name) + ": the problem has no " + name + " (" +
        (std::string(name).starts_with("running") ? "track=false" : "affine=false") +
        "); pass None");
  }
  return channel_tensor(p, object, name);
}

bool is_data(const std::string& name) {
  return name == "x" || name == "y" || name == "dy" || name == "dx";
}

}  // namespace

module_state state_from(const problem& p, const py::object& gamma, const py::object& beta,
                        const py::object& running_mean, const py::object& running_var,
                        std::int64_t num_batches_tracked) {
  module_state s = module_state::initial(p);
  s.gamma = given_or(p, gamma, "gamma", p.affine(), s.gamma);
  s.beta = given_or(p, beta, "beta", p.affine(), s.beta);
  s.running_mean =
      given_or(p, running_mean, "running_mean", p.track_running_stats(), s.running_mean);
  s.running_var = given_or(p, running_var, "running_var", p.track_running_stats(), s.running_var);
  if (num_batches_tracked < 0) throw py::value_error("num_batches_tracked: must be >= 0");
  s.num_batches_tracked = num_batches_tracked;
  return s;
}

py::dict state_dict(const problem& p, const module_state& s) {
  py::dict d;
  if (p.affine()) {
    d["gamma"] = channel_array(s.gamma);
    d["beta"] = channel_array(s.beta);
  }
  if (p.track_running_stats()) {
    d["running_mean"] = channel_array(s.running_mean);
    d["running_var"] = channel_array(s.running_var);
  }
  d["num_batches_tracked"] = s.num_batches_tracked;
  return d;
}

py::dict forward_dict(const problem& p, const reference::forward_result& r) {
  py::dict d;
  d["y"] = rounded_data_array(p, p.data_type(), r.y.rounded);
  if (p.uses_batch_statistics()) {
    d["save_mean"] = rounded_channel_array(p.stats_type(), r.save_mean.rounded);
    d["save_invstd"] = rounded_channel_array(p.stats_type(), r.save_invstd.rounded);
  }
  if (p.track_running_stats()) {
    d["running_mean"] = rounded_channel_array(p.stats_type(), r.running_mean.rounded);
    d["running_var"] = rounded_channel_array(p.stats_type(), r.running_var.rounded);
    d["num_batches_tracked"] = r.num_batches_tracked;
  }
  d["ill_posed_channels"] = py::cast(r.ill_posed_channels);
  return d;
}

py::dict backward_dict(const problem& p, const reference::backward_result& r) {
  py::dict d;
  d["dx"] = rounded_data_array(p, p.data_type(), r.dx.rounded);
  if (p.affine()) {
    d["dgamma"] = rounded_channel_array(p.stats_type(), r.dgamma.rounded);
    d["dbeta"] = rounded_channel_array(p.stats_type(), r.dbeta.rounded);
  }
  d["ill_posed_channels"] = py::cast(r.ill_posed_channels);
  return d;
}

py::dict named_dict(const problem& p, const std::vector<named_tensor>& tensors) {
  py::dict d;
  for (const named_tensor& t : tensors) {
    d[py::str(t.name)] = is_data(t.name) ? data_array(p, t.values) : channel_array(t.values);
  }
  return d;
}

py::dict step_dict(const step_result& s) {
  const problem p = problem::parse(s.problem);
  py::dict d;
  d["op"] = std::string(name_of(s.op));
  d["problem"] = s.problem;
  d["status"] = s.status;
  d["message"] = s.message;
  d["outputs"] = named_dict(p, s.outputs);
  if (s.has_state) d["state"] = named_dict(p, s.state);
  if (s.num_batches_tracked) d["num_batches_tracked"] = *s.num_batches_tracked;
  return d;
}

}  // namespace bnconform::python
