#include "calls.hpp"

#include <functional>
#include <string>
#include <vector>

#include "core/abi_rules.hpp"
#include "core/kernel.hpp"
#include "core/problem.hpp"
#include "impl/adapters/adapter_call.hpp"
#include "numpy_views.hpp"
#include "python_kernel.hpp"

namespace bnconform::python_host {

namespace {

using adapters::call_failure;

void enforce(const std::optional<abi_violation>& v) {
  if (v) throw call_failure(v->code, v->message);
}

// What the kernel does not declare it rejects as unsupported (certify never asks).
void check_declared(const python_kernel& k, const problem& p, bool backward) {
  const bnc_capabilities& c = k.declared.capabilities;
  std::string why;
  if ((c.operations & operation_of(p, backward)) == 0) {
    why = std::string(backward ? "backward" : "forward") + " in mode " +
          std::string(name_of(p.mode())) + " is not declared";
  } else if ((c.dtypes & BNC_BIT(to_abi(p.data_type()))) == 0) {
    why = "dtype " + std::string(name_of(p.data_type())) + " is not declared";
  } else if ((c.layouts &
              BNC_BIT(p.layout() == layout::channels_first ? BNC_LAYOUT_CHANNELS_FIRST
                                                           : BNC_LAYOUT_CHANNELS_LAST)) == 0) {
    why = "layout " + std::string(name_of(p.layout())) + " is not declared";
  } else if ((c.profiles & BNC_BIT(static_cast<int>(p.profile()))) == 0) {
    why = "profile " + std::string(name_of(p.profile())) + " is not declared";
  } else if (p.rank() < c.min_rank || p.rank() > c.max_rank) {
    why = "rank " + std::to_string(p.rank()) + " is not declared";
  }
  if (!why.empty()) throw call_failure(BNC_STATUS_UNSUPPORTED, k.label + ": " + why);
}

// One output the function must return, and where it goes.
struct destination {
  const char* key;
  py::array into;
};

// Calls fn(**kwargs); a Python exception becomes the call's failure, with the
// traceback's last line: NotImplementedError is UNSUPPORTED, anything else
// INTERNAL_ERROR.
py::object call(const python_kernel& k, const char* function, const py::object& fn,
                const py::dict& kwargs) {
  try {
    return fn(**kwargs);
  } catch (py::error_already_set& e) {
    const bnc_status code =
        e.matches(PyExc_NotImplementedError) ? BNC_STATUS_UNSUPPORTED : BNC_STATUS_INTERNAL_ERROR;
    throw call_failure(code, k.label + "." + function + " raised " + python_error_line(e));
  }
}

std::string type_name(const py::handle& h) { return py::str(py::type::of(h).attr("__name__")); }

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// Checks everything the function returned before anything is written, then
// copies each output into the caller's buffer (numpy.copyto: any strides).
void deliver(const python_kernel& k, const char* function, const py::object& result,
             const std::vector<destination>& outputs, const std::vector<const char*>& also_known) {
  const std::string who = k.label + "." + function;
  if (!py::isinstance<py::dict>(result)) {
    throw call_failure(BNC_STATUS_INTERNAL_ERROR,
                       who + " returned " + type_name(result) + ", expected a dict of outputs");
  }
  const auto d = py::reinterpret_borrow<py::dict>(result);
  for (const auto& kv : d) {
    const std::string key = py::str(kv.first);
    bool known = false;
    std::string list;
    for (const destination& o : outputs) {
      known = known || key == o.key;
      list += (list.empty() ? "" : ", ") + std::string(o.key);
    }
    for (const char* name : also_known) {
      known = known || key == name;
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
    if (!known) {
      throw call_failure(BNC_STATUS_INTERNAL_ERROR, who + " returned an unknown output '" + key +
                                                        "' (this call: " + list + ")");
    }
  }
  std::vector<py::array> values;
  for (const destination& o : outputs) {
    if (!d.contains(o.key)) {
      throw call_failure(BNC_STATUS_INTERNAL_ERROR,
                         who + " returned no '" + o.key + "', which this call needs");
    }
    const py::object v = d[o.key];
    if (!py::isinstance<py::array>(v)) {
      throw call_failure(BNC_STATUS_INTERNAL_ERROR, who + " returned " + o.key + " as " +
                                                        type_name(v) + ", expected a numpy array");
    }
    const auto a = py::reinterpret_borrow<py::array>(v);
    if (!a.dtype().equal(o.into.dtype())) {
      throw call_failure(BNC_STATUS_INTERNAL_ERROR, who + " returned " + o.key + " of dtype " +
                                                        std::string(py::str(a.dtype())) +
                                                        ", expected " +
                                                        std::string(py::str(o.into.dtype())));
    }
    bool same = a.ndim() == o.into.ndim();
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == o.into.shape(i);
    if (!same) {
      throw call_failure(BNC_STATUS_INTERNAL_ERROR, who + " returned " + o.key + " of shape " +
                                                        shape_text(a) + ", expected " +
                                                        shape_text(o.into));
    }
    values.push_back(a);
  }
  const py::object copyto = py::module_::import("numpy").attr("copyto");
  for (std::size_t i = 0; i < outputs.size(); ++i) copyto(outputs[i].into, values[i]);
}

std::int64_t returned_counter(const python_kernel& k, const py::object& result) {
  const std::string who = k.label + ".forward";
  if (!py::isinstance<py::dict>(result)) {
    throw call_failure(BNC_STATUS_INTERNAL_ERROR,
                       who + " returned " + type_name(result) + ", expected a dict of outputs");
  }
  const auto d = py::reinterpret_borrow<py::dict>(result);
  if (!d.contains("num_batches_tracked")) {
    throw call_failure(BNC_STATUS_INTERNAL_ERROR,
                       who +
                           " returned no 'num_batches_tracked' (the kernel keeps the module "
                           "state: it returns the new counter)");
  }
  const py::object v = d["num_batches_tracked"];
  if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v)) {
    throw call_failure(BNC_STATUS_INTERNAL_ERROR,
                       who + " returned num_batches_tracked as " + type_name(v) + ", expected int");
  }
  return v.cast<std::int64_t>();
}

bnc_status forward_call(const python_kernel& k, const bnc_problem* descriptor,
                        const bnc_forward_args* a) {
  enforce(problem_abi_rules(descriptor));
  const problem p = from_abi(*descriptor);
  check_declared(k, p, false);
  const std::int32_t keeps = k.declared.capabilities.keeps_module_state;
  enforce(forward_abi_rules(descriptor, a, keeps, BNC_STATUS_OK));
  const bool moves = p.mode() == mode::training && p.track_running_stats();
  const py::gil_scoped_acquire gil;
  py::dict kwargs;
  kwargs["problem"] = problem_namespace(p);
  kwargs["x"] = input_data(p, a->x);
  kwargs["gamma"] = input_channels(p, a->gamma);
  kwargs["beta"] = input_channels(p, a->beta);
  kwargs["running_mean"] = input_channels(p, a->running_mean);
  kwargs["running_var"] = input_channels(p, a->running_var);
  kwargs["num_batches_tracked"] = a->num_batches_tracked == nullptr
                                      ? py::object(py::none())
                                      : py::int_(*a->num_batches_tracked);
  kwargs["factor"] = keeps != 0 || !moves ? py::object(py::none())
                                          : py::object(py::float_(a->exponential_average_factor));
  const py::object result = call(k, "forward", k.forward, kwargs);
  std::vector<destination> outputs{{"y", output_data(p, a->y)}};
  if (p.uses_batch_statistics()) {
    outputs.push_back({"save_mean", output_channels(p, a->save_mean)});
    outputs.push_back({"save_invstd", output_channels(p, a->save_invstd)});
  }
  if (moves) {
    outputs.push_back({"running_mean", output_channels(p, a->running_mean)});
    outputs.push_back({"running_var", output_channels(p, a->running_var)});
  }
  // Known names a call may return and that are ignored where it writes no such output
  // (running statistics in eval, the counter of a kernel that leaves it to the caller).
  const std::vector<const char*> also_known{"save_mean", "save_invstd", "running_mean",
                                            "running_var", "num_batches_tracked"};
  std::int64_t counter = 0;
  if (keeps != 0 && moves) counter = returned_counter(k, result);
  deliver(k, "forward", result, outputs, also_known);
  if (keeps != 0 && moves) *a->num_batches_tracked = counter;
  return BNC_STATUS_OK;
}

bnc_status backward_call(const python_kernel& k, const bnc_problem* descriptor,
                         const bnc_backward_args* a) {
  enforce(problem_abi_rules(descriptor));
  const problem p = from_abi(*descriptor);
  check_declared(k, p, true);
  enforce(backward_abi_rules(descriptor, a, BNC_STATUS_OK));
  const py::gil_scoped_acquire gil;
  py::dict kwargs;
  kwargs["problem"] = problem_namespace(p);
  kwargs["x"] = input_data(p, a->x);
  kwargs["dy"] = input_data(p, a->dy);
  kwargs["gamma"] = input_channels(p, a->gamma);
  kwargs["save_mean"] = input_channels(p, a->save_mean);
  kwargs["save_invstd"] = input_channels(p, a->save_invstd);
  kwargs["running_mean"] = input_channels(p, a->running_mean);
  kwargs["running_var"] = input_channels(p, a->running_var);
  const py::object result = call(k, "backward", k.backward, kwargs);
  std::vector<destination> outputs{{"dx", output_data(p, a->dx)}};
  if (p.affine()) {
    outputs.push_back({"dgamma", output_channels(p, a->dgamma)});
    outputs.push_back({"dbeta", output_channels(p, a->dbeta)});
  }
  deliver(k, "backward", result, outputs, {"dgamma", "dbeta"});
  return BNC_STATUS_OK;
}

}  // namespace

bnc_status python_forward(void* context, const bnc_problem* problem, const bnc_forward_args* args,
                          char* message, std::size_t message_size) {
  const auto& k = *static_cast<const python_kernel*>(context);
  return adapters::guarded(message, message_size, [&] { return forward_call(k, problem, args); });
}

bnc_status python_backward(void* context, const bnc_problem* problem, const bnc_backward_args* args,
                           char* message, std::size_t message_size) {
  const auto& k = *static_cast<const python_kernel*>(context);
  return adapters::guarded(message, message_size, [&] { return backward_call(k, problem, args); });
}

}  // namespace bnconform::python_host
