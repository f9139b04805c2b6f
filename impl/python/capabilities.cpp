#include "capabilities.hpp"

#include <climits>
#include <initializer_list>
#include <utility>

#include "core/error.hpp"

namespace bnconform::python_host {

namespace {

using named_bit = std::pair<const char*, std::uint32_t>;

std::string known_list(std::initializer_list<named_bit> known) {
  std::string s;
  for (const auto& [name, bit] : known) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}

std::string text_of(const py::handle& h) { return std::string(py::str(h)); }

// A list of names as the mask of their bits.
std::uint32_t mask_of(const py::dict& d, const char* key, std::initializer_list<named_bit> known,
                      const char* what) {
  const std::string where = std::string("capabilities['") + key + "']";
  const py::object value = d[key];
  if (py::isinstance<py::str>(value) || !py::isinstance<py::iterable>(value)) {
    report_error(where + ": expected a list of names (known: " + known_list(known) + ")");
  }
  std::uint32_t mask = 0;
  for (const py::handle item : value) {
    const std::string name = text_of(item);
    bool found = false;
    for (const auto& [known_name, bit] : known) {
      if (name == known_name) {
        mask |= bit;
        found = true;
      }
    }
    if (!found) {
      report_error(where + ": unknown " + what + " '" + name + "' (known: " + known_list(known) +
                   ")");
    }
  }
  return mask;
}

std::int32_t rank_of(const py::handle& h, const char* which) {
  if (h.is_none()) return INT32_MAX;
  if (!py::isinstance<py::int_>(h) || py::isinstance<py::bool_>(h)) {
    report_error(std::string("capabilities['ranks']: the ") + which +
                 " rank must be an integer (None: any)");
  }
  const auto r = h.cast<long long>();
  if (r < 0 || r > INT32_MAX) report_error("capabilities['ranks']: out of range");
  return static_cast<std::int32_t>(r);
}

}  // namespace

declared_kernel read_capabilities(const py::handle& object) {
  if (!py::isinstance<py::dict>(object)) {
    report_error("capabilities: expected a dict, got " +
                 text_of(py::type::of(object).attr("__name__")));
  }
  const auto d = py::reinterpret_borrow<py::dict>(object);
  for (const auto& kv : d) {
    const std::string key = text_of(kv.first);
    bool known = false;
    for (const char* k : {"name", "version", "operations", "dtypes", "layouts", "profiles", "ranks",
                          "keeps_module_state"}) {
      known = known || key == k;
    }
    if (!known) {
      report_error("capabilities: unknown key '" + key +
                   "' (known: name, version, operations, dtypes, layouts, profiles, ranks, "
                   "keeps_module_state)");
    }
  }
  for (const char* required : {"name", "operations", "dtypes", "layouts"}) {
    if (!d.contains(required))
      report_error(std::string("capabilities: '") + required + "' is required");
  }
  declared_kernel k;
  k.name = text_of(d["name"]);
  k.version = d.contains("version") ? text_of(d["version"]) : std::string("0");
  bnc_capabilities& c = k.capabilities;
  c.operations = mask_of(d, "operations",
                         {{"forward-training", BNC_OP_FORWARD_TRAINING},
                          {"forward-eval", BNC_OP_FORWARD_EVAL},
                          {"backward-training", BNC_OP_BACKWARD_TRAINING},
                          {"backward-eval", BNC_OP_BACKWARD_EVAL}},
                         "operation");
  c.dtypes = mask_of(d, "dtypes",
                     {{"f64", BNC_BIT(BNC_DTYPE_F64)},
                      {"f32", BNC_BIT(BNC_DTYPE_F32)},
                      {"f16", BNC_BIT(BNC_DTYPE_F16)},
                      {"bf16", BNC_BIT(BNC_DTYPE_BF16)}},
                     "dtype");
  c.layouts = mask_of(d, "layouts",
                      {{"channels_first", BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST)},
                       {"channels_last", BNC_BIT(BNC_LAYOUT_CHANNELS_LAST)}},
                      "layout");
  c.profiles = d.contains("profiles") ? mask_of(d, "profiles",
                                                {{"pytorch", BNC_BIT(BNC_PROFILE_PYTORCH)},
                                                 {"onnx", BNC_BIT(BNC_PROFILE_ONNX)},
                                                 {"keras", BNC_BIT(BNC_PROFILE_KERAS)},
                                                 {"tf-fused", BNC_BIT(BNC_PROFILE_TF_FUSED)},
                                                 {"flax", BNC_BIT(BNC_PROFILE_FLAX)}},
                                                "profile")
                                      : BNC_BIT(BNC_PROFILE_PYTORCH);
  c.min_rank = 2;
  c.max_rank = INT32_MAX;
  if (d.contains("ranks")) {
    const py::object ranks = d["ranks"];
    if (!py::isinstance<py::tuple>(ranks) && !py::isinstance<py::list>(ranks)) {
      report_error("capabilities['ranks']: expected (min, max), max None for any");
    }
    const auto pair = py::reinterpret_borrow<py::sequence>(ranks);
    if (pair.size() != 2)
      report_error("capabilities['ranks']: expected (min, max), max None for any");
    c.min_rank = rank_of(pair[0], "minimum");
    c.max_rank = rank_of(pair[1], "maximum");
  }
  c.memory = BNC_MEMORY_HOST;
  c.keeps_module_state =
      d.contains("keeps_module_state") && py::bool_(d["keeps_module_state"]) ? 1 : 0;
  return k;
}

}  // namespace bnconform::python_host
