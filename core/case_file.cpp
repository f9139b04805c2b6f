#include "case_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "error.hpp"
#include "float_bits.hpp"

namespace bnconform {

using json = nlohmann::json;

std::string_view name_of(step_op op) { return op == step_op::forward ? "forward" : "backward"; }

std::string json_string(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string json_value(double v, dtype t, bool hex) {
  if (hex) return json_string(hex_float(v));
  if (!std::isfinite(v)) return json_string(shortest_decimal(v, t));
  if (v == 0 && std::signbit(v)) return "-0.0";
  return shortest_decimal(v, t);
}

namespace {

// The JSON number token -0 is an integer to nlohmann (and to Python), so its sign
// is lost; rewriting it as -0.0 outside strings keeps it. Returns whether any was.
bool rewrite_negative_zero(std::string_view text, std::string& out) {
  bool in_string = false, escaped = false, changed = false;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    out += c;
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '0' &&
               (i + 2 == text.size() || std::strchr("0123456789.eE", text[i + 2]) == nullptr)) {
      out += "0.0";
      ++i;
      changed = true;
    }
  }
  return changed;
}

// Parses JSON, rejecting duplicate keys (nlohmann would keep the last silently).
json parse_json(std::string_view text) {
  std::vector<std::set<std::string>> keys;
  const json::parser_callback_t callback = [&keys](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!keys.back().insert(key).second) report_error("duplicate key " + json_string(key));
    }
    return true;
  };
  try {
    json parsed = json::parse(text.begin(), text.end(), callback);
    std::string rewritten;
    if (rewrite_negative_zero(text, rewritten)) {
      parsed = json::parse(rewritten.begin(), rewritten.end());
    }
    return parsed;
  } catch (const json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep the position.
    const std::string what = e.what();
    const std::size_t tag_end = what.find("] ");
    report_error("malformed JSON: " +
                 (tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
}

void expect_keys(const json& object, const std::string& where,
                 std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || item.key() == k;
    if (!found) report_error(where + ": unknown key " + json_string(item.key()));
  }
}

const json& require(const json& object, const std::string& where, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) report_error(where + ": missing required key \"" + key + "\"");
  return *it;
}

const json& require_type(const json& j, const std::string& where, json::value_t type,
                         const char* expected) {
  const bool ok = j.type() == type || (type == json::value_t::number_integer &&
                                       j.type() == json::value_t::number_unsigned);
  if (!ok) report_error(where + ": expected " + expected + ", got " + j.type_name());
  return j;
}

std::string shape_text(std::span<const std::int64_t> shape, const char* separator = "x") {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += (i > 0 ? separator : "") + std::to_string(shape[i]);
  }
  return s;
}

double read_value(const json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) return parse_real(j.get<std::string>(), where);
  report_error(where + ": expected a number or a string (hex float, decimal, nan, inf), got " +
               j.type_name());
}

tensor read_tensor(const json& j, const std::string& where, dtype t, std::int64_t expected,
                   const std::string& expected_what) {
  require_type(j, where, json::value_t::array, "an array of values");
  if (static_cast<std::int64_t>(j.size()) != expected) {
    report_error(where + ": expected " + std::to_string(expected) + " values (" + expected_what +
                 ", dtype " + std::string(name_of(t)) + "), got " + std::to_string(j.size()));
  }
  tensor out(t, expected);
  for (std::int64_t i = 0; i < expected; ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    out.set(i, read_value(j[static_cast<std::size_t>(i)], at));
  }
  return out;
}

std::int64_t read_count(const json& j, const std::string& where) {
  require_type(j, where, json::value_t::number_integer, "a non-negative integer");
  if (j.is_number_unsigned() &&
      j.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    report_error(where + ": " + j.dump() + " does not fit in 64 bits");
  }
  const auto value = j.get<std::int64_t>();
  if (value < 0) report_error(where + ": expected a non-negative integer, got " + j.dump());
  return value;
}

tensor read_vector(const json& j, const std::string& where, const problem& p) {
  return read_tensor(j, where, p.stats_type(), p.channels(), "C = " + std::to_string(p.channels()));
}

module_state read_state(const json& j, const problem& p) {
  const std::string where = "state";
  require_type(j, where, json::value_t::object, "an object");
  expect_keys(j, where, {"gamma", "beta", "running_mean", "running_var", "num_batches_tracked"});
  module_state s = module_state::initial(p);
  const auto given = [&](const char* key, bool allowed, const char* flag) {
    if (!j.contains(key)) return false;
    if (!allowed) report_error(where + "." + key + ": given but the problem has " + flag);
    return true;
  };
  if (given("gamma", p.affine(), "affine=false"))
    s.gamma = read_vector(j["gamma"], "state.gamma", p);
  if (given("beta", p.affine(), "affine=false")) s.beta = read_vector(j["beta"], "state.beta", p);
  const bool track = p.track_running_stats();
  if (given("running_mean", track, "track=false")) {
    s.running_mean = read_vector(j["running_mean"], "state.running_mean", p);
  }
  if (given("running_var", track, "track=false")) {
    s.running_var = read_vector(j["running_var"], "state.running_var", p);
  }
  if (given("num_batches_tracked", track, "track=false")) {
    s.num_batches_tracked = read_count(j["num_batches_tracked"], "state.num_batches_tracked");
  }
  return s;
}

problem step_problem(const json& j, const std::string& where, const problem& base,
                     case_step& step) {
  problem p = base;
  if (j.contains("shape")) {
    const json& shape = require_type(j["shape"], where + ".shape", json::value_t::array,
                                     "an array of extents [N, C, ...]");
    std::vector<std::int64_t> extents;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      extents.push_back(read_count(shape[i], where + ".shape[" + std::to_string(i) + "]"));
    }
    if (extents.size() < 2 || extents[1] != base.channels()) {
      report_error(where +
                   ".shape: must be [N, C, ...] with C = " + std::to_string(base.channels()) +
                   " (the problem's), got [" + shape_text(extents, ", ") + "]");
    }
    try {
      p = p.with_shape(extents);
    } catch (const error& e) {
      report_error(where + ".shape: " + e.what());
    }
    step.shape_override = extents;
  }
  if (j.contains("mode")) {
    const json& m = require_type(j["mode"], where + ".mode", json::value_t::string, "a string");
    const std::string text = m.get<std::string>();
    if (text != "train" && text != "eval") {
      report_error(where + ".mode: expected \"train\" or \"eval\", got " + json_string(text));
    }
    step.mode_override = text == "train" ? mode::training : mode::eval;
    p = p.with_mode(*step.mode_override);
  }
  return p;
}

// Checks what a backward step takes from the latest forward step.
void link_backward(case_step& step, const std::string& where,
                   const std::vector<case_step>& earlier) {
  for (std::size_t i = earlier.size(); i-- > 0;) {
    if (earlier[i].op == step_op::forward) {
      step.latest_forward = i;
      break;
    }
  }
  const std::string forward_name =
      step.latest_forward ? "steps[" + std::to_string(*step.latest_forward) + "]" : "";
  if (!step.x) {
    if (!step.latest_forward)
      report_error(where + ": backward has no \"x\" and no earlier forward");
    const problem& fp = earlier[*step.latest_forward].prob;
    if (!std::ranges::equal(fp.shape(), step.prob.shape())) {
      report_error(where + ": backward has no \"x\" and its shape " +
                   shape_text(step.prob.shape()) + " differs from that of " + forward_name + " (" +
                   shape_text(fp.shape()) + ")");
    }
  }
  if (!step.prob.uses_batch_statistics() || step.save_mean) return;
  if (!step.latest_forward) {
    report_error(where + ": backward in batch-statistics mode needs an earlier forward or " +
                 "explicit \"save_mean\" and \"save_invstd\"");
  }
  if (!earlier[*step.latest_forward].prob.uses_batch_statistics()) {
    report_error(where + ": backward in batch-statistics mode, but " + forward_name +
                 " used running statistics; give \"save_mean\" and \"save_invstd\"");
  }
}

case_step read_step(const json& j, std::size_t index, const problem& base,
                    const std::vector<case_step>& earlier) {
  const std::string where = "steps[" + std::to_string(index) + "]";
  require_type(j, where, json::value_t::object, "an object");
  expect_keys(j, where, {"op", "x", "dy", "mode", "shape", "save_mean", "save_invstd"});
  const json& op =
      require_type(require(j, where, "op"), where + ".op", json::value_t::string, "a string");
  const std::string op_text = op.get<std::string>();
  if (op_text != "forward" && op_text != "backward") {
    report_error(where + ".op: expected \"forward\" or \"backward\", got " + json_string(op_text));
  }
  case_step step(op_text == "forward" ? step_op::forward : step_op::backward, base);
  if (step.op == step_op::forward) {
    for (const char* key : {"dy", "save_mean", "save_invstd"}) {
      if (j.contains(key)) report_error(where + ": key \"" + key + "\" is only for backward steps");
    }
  }
  step.prob = step_problem(j, where, base, step);
  const problem& p = step.prob;
  const std::string data_what = "shape " + shape_text(p.shape());
  if (step.op == step_op::forward || j.contains("x")) {
    step.x = read_tensor(require(j, where, "x"), where + ".x", p.data_type(), p.element_count(),
                         data_what);
  }
  if (step.op == step_op::forward) return step;
  step.dy = read_tensor(require(j, where, "dy"), where + ".dy", p.data_type(), p.element_count(),
                        data_what);
  if (j.contains("save_mean") != j.contains("save_invstd")) {
    report_error(where + ": \"save_mean\" and \"save_invstd\" go together");
  }
  if (j.contains("save_mean")) {
    if (!p.uses_batch_statistics()) {
      report_error(where + ": \"save_mean\" given, but this backward uses running statistics");
    }
    step.save_mean = read_vector(j["save_mean"], where + ".save_mean", p);
    step.save_invstd = read_vector(j["save_invstd"], where + ".save_invstd", p);
  }
  link_backward(step, where, earlier);
  return step;
}

case_finding read_finding(const json& j) {
  const std::string where = "finding";
  require_type(j, where, json::value_t::object, "an object");
  expect_keys(j, where, {"kernel", "level", "verdict", "reason", "seed", "repro"});
  const auto text = [&](const char* key) {
    return require_type(require(j, where, key), where + "." + key, json::value_t::string,
                        "a string")
        .get<std::string>();
  };
  return {text("kernel"), text("level"), text("verdict"),
          text("reason"), text("seed"),  text("repro")};
}

case_file parse_document(const json& doc, const std::string& path) {
  require_type(doc, "top level", json::value_t::object, "a JSON object");
  expect_keys(doc, "top level", {"description", "problem", "state", "steps", "finding"});
  const json& text = require_type(require(doc, "top level", "problem"), "problem",
                                  json::value_t::string, "a problem string");
  std::optional<problem> base;
  try {
    base = problem::parse(text.get<std::string>());
  } catch (const error& e) {
    report_error(std::string("problem: ") + e.what());
  }
  case_file c(path, *base);
  if (doc.contains("description")) {
    c.description =
        require_type(doc["description"], "description", json::value_t::string, "a string")
            .get<std::string>();
  }
  c.state_given = doc.contains("state");
  if (c.state_given) c.state = read_state(doc["state"], c.base);
  const json& steps =
      require_type(require(doc, "top level", "steps"), "steps", json::value_t::array, "an array");
  if (steps.empty()) report_error("steps: at least one step is required");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    c.steps.push_back(read_step(steps[i], i, c.base, c.steps));
  }
  if (doc.contains("finding")) c.finding = read_finding(doc["finding"]);
  return c;
}

}  // namespace

case_file parse_case(std::string_view text, const std::string& path) {
  try {
    return parse_document(parse_json(text), path);
  } catch (const error& e) {
    report_error(path + ": " + e.what());
  } catch (const std::exception& e) {  // e.g. std::bad_alloc on an absurd tensor
    report_error(path + ": " + e.what());
  }
}

case_file read_case_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) report_error(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) report_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) report_error(path + ": read error");
  return parse_case(text.str(), path);
}

namespace {

std::string values_json(const tensor& t, bool hex) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.size(); ++i) {
    if (i > 0) s += ", ";
    s += json_value(t.get(i), t.type(), hex);
  }
  return s + "]";
}

std::string step_json(const case_step& step, bool hex) {
  std::string s = "    {\"op\": " + json_string(name_of(step.op));
  if (step.mode_override) s += ", \"mode\": " + json_string(name_of(*step.mode_override));
  if (step.shape_override) {
    s += ", \"shape\": [";
    for (std::size_t i = 0; i < step.shape_override->size(); ++i) {
      s += (i > 0 ? ", " : "") + std::to_string((*step.shape_override)[i]);
    }
    s += "]";
  }
  if (step.x) s += ",\n     \"x\": " + values_json(*step.x, hex);
  if (step.op == step_op::backward) s += ",\n     \"dy\": " + values_json(step.dy, hex);
  if (step.save_mean) s += ",\n     \"save_mean\": " + values_json(*step.save_mean, hex);
  if (step.save_invstd) s += ",\n     \"save_invstd\": " + values_json(*step.save_invstd, hex);
  return s + "}";
}

}  // namespace

std::string to_json(const case_file& c, bool hex) {
  std::string s = "{\n";
  if (!c.description.empty()) s += "  \"description\": " + json_string(c.description) + ",\n";
  s += "  \"problem\": " + json_string(c.base.to_string()) + ",\n";
  if (c.state_given) {
    std::string items;
    const auto add = [&](const char* key, const std::string& value) {
      items += std::string(items.empty() ? "" : ",\n") + "    \"" + key + "\": " + value;
    };
    if (c.base.affine()) {
      add("gamma", values_json(c.state.gamma, hex));
      add("beta", values_json(c.state.beta, hex));
    }
    if (c.base.track_running_stats()) {
      add("running_mean", values_json(c.state.running_mean, hex));
      add("running_var", values_json(c.state.running_var, hex));
      add("num_batches_tracked", std::to_string(c.state.num_batches_tracked));
    }
    s += "  \"state\": {\n" + items + "\n  },\n";
  }
  s += "  \"steps\": [\n";
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    s += step_json(c.steps[i], hex) + (i + 1 < c.steps.size() ? ",\n" : "\n");
  }
  s += "  ]";
  if (c.finding) {
    const case_finding& f = *c.finding;
    s += ",\n  \"finding\": {\n    \"kernel\": " + json_string(f.kernel) +
         ",\n    \"level\": " + json_string(f.level) +
         ",\n    \"verdict\": " + json_string(f.verdict) +
         ",\n    \"reason\": " + json_string(f.reason) + ",\n    \"seed\": " + json_string(f.seed) +
         ",\n    \"repro\": " + json_string(f.repro) + "\n  }";
  }
  return s + "\n}\n";
}

}  // namespace bnconform
