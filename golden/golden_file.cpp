#include "golden_file.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/float_bits.hpp"
#include "core/rounding.hpp"

namespace bnconform::golden {

// Ordered: outputs keep the order they are written in, so a file read and written
// again comes out the same.
using json = nlohmann::ordered_json;

namespace {

constexpr std::string_view checksum_key = "\"sha256\": \"";
constexpr std::size_t checksum_digits = 64;

// ---- writing -------------------------------------------------------------------

std::string tensor_json(const tensor& t) {
  std::string s = "{\"dtype\": \"" + std::string(name_of(t.type())) + "\", \"values\": [";
  for (std::int64_t i = 0; i < t.size(); ++i)
    s += (i ? ", " : "") + json_value(t.get(i), t.type(), true);
  return s + "]}";
}

std::string spec_json(const case_spec& s) {
  return "{\"problem\": " + json_string(s.problem) + ", \"fill\": " + json_string(s.fill) +
         ", \"state\": " + json_string(s.state) + ", \"seed\": " + std::to_string(s.seed) +
         ", \"steps\": " + json_string(steps_text(s)) + ", \"origin\": " + json_string(s.origin) +
         "}";
}

std::string import_json(const import_source& i) {
  return "{\"source\": " + json_string(i.source) + ", \"test\": " + json_string(i.test) +
         ", \"package\": " + json_string(i.package) +
         ", \"operator\": " + json_string(i.operator_) + "}";
}

std::string external_json(const std::vector<external_step>& steps) {
  std::string s = "[";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    s += std::string(i ? ",\n" : "\n") + "    {\"step\": " + std::to_string(steps[i].step) +
         ", \"outputs\": {";
    for (std::size_t k = 0; k < steps[i].outputs.size(); ++k) {
      s += std::string(k ? ",\n" : "\n") + "      " + json_string(steps[i].outputs[k].name) + ": " +
           tensor_json(steps[i].outputs[k].values);
    }
    s += "}}";
  }
  return s + "\n  ]";
}

// ---- reading -------------------------------------------------------------------

json parse_json(std::string_view text, const std::string& path) {
  std::vector<std::set<std::string>> keys;
  const json::parser_callback_t reject_duplicates = [&](int, json::parse_event_t event,
                                                        json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second) {
      report_error(path + ": duplicate key " + json_string(parsed.get<std::string>()));
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), reject_duplicates);
  } catch (const json::exception& e) {
    report_error(path + ": malformed or truncated JSON: " + e.what());
  }
}

void expect_keys(const json& j, const std::string& where,
                 std::initializer_list<const char*> required,
                 std::initializer_list<const char*> optional = {}) {
  if (!j.is_object()) report_error(where + ": expected an object");
  for (const char* key : required) {
    if (!j.contains(key)) report_error(where + ": missing key \"" + key + "\"");
  }
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const auto* list : {&required, &optional}) {
      for (const char* k : *list) known = known || key == k;
    }
    if (!known) report_error(where + ": unknown key " + json_string(key));
  }
}

std::string text_of(const json& j, const std::string& where) {
  if (!j.is_string()) report_error(where + ": expected a string");
  return j.get<std::string>();
}

std::int64_t integer_of(const json& j, const std::string& where) {
  if (!j.is_number_integer()) report_error(where + ": expected an integer");
  return j.get<std::int64_t>();
}

tensor tensor_of(const json& j, const std::string& where) {
  expect_keys(j, where, {"dtype", "values"});
  const dtype t = [&] {
    try {
      return parse_dtype(text_of(j["dtype"], where + ".dtype"));
    } catch (const error& e) {
      report_error(where + ".dtype: " + e.what());
    }
  }();
  const json& values = j["values"];
  if (!values.is_array()) report_error(where + ".values: expected an array");
  tensor out(t, static_cast<std::int64_t>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string at = where + ".values[" + std::to_string(i) + "]";
    const double v =
        values[i].is_number() ? values[i].get<double>() : parse_real(text_of(values[i], at), at);
    out.set(static_cast<std::int64_t>(i), v);
    if (!same_value(out.get(static_cast<std::int64_t>(i)), v)) {
      report_error(at + ": " + hex_float(v) + " is not a value of " + std::string(name_of(t)));
    }
  }
  return out;
}

std::vector<named_tensor> tensors_of(const json& j, const std::string& where,
                                     std::initializer_list<const char*> allowed) {
  if (!j.is_object()) report_error(where + ": expected an object");
  std::vector<named_tensor> out;
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : allowed) known = known || key == k;
    if (!known) report_error(where + ": unknown output " + json_string(key));
    out.push_back({key, tensor_of(value, where + "." + key)});
  }
  return out;
}

step_result step_of(const json& j, const std::string& where) {
  expect_keys(j, where, {"op", "problem", "status", "message", "outputs"}, {"state"});
  step_result r;
  const std::string op = text_of(j["op"], where + ".op");
  if (op != "forward" && op != "backward")
    report_error(where + ".op: expected forward or backward");
  r.op = op == "forward" ? step_op::forward : step_op::backward;
  r.problem = text_of(j["problem"], where + ".problem");
  r.status = text_of(j["status"], where + ".status");
  r.message = text_of(j["message"], where + ".message");
  r.outputs = tensors_of(j["outputs"], where + ".outputs",
                         {"y", "save_mean", "save_invstd", "dx", "dgamma", "dbeta"});
  if (j.contains("state")) {
    r.has_state = true;
    json state = j["state"];
    if (!state.is_object()) report_error(where + ".state: expected an object");
    if (state.contains("num_batches_tracked")) {
      r.num_batches_tracked =
          integer_of(state["num_batches_tracked"], where + ".state.num_batches_tracked");
      state.erase("num_batches_tracked");
    }
    r.state = tensors_of(state, where + ".state", {"running_mean", "running_var"});
  }
  return r;
}

case_result expected_of(const json& j, const std::string& where) {
  expect_keys(j, where, {"kernel", "kernel_version", "case", "steps", "ok"});
  case_result r;
  r.kernel_name = text_of(j["kernel"], where + ".kernel");
  r.kernel_version = text_of(j["kernel_version"], where + ".kernel_version");
  r.case_name = text_of(j["case"], where + ".case");
  if (!j["steps"].is_array()) report_error(where + ".steps: expected an array");
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    r.steps.push_back(step_of(j["steps"][i], where + ".steps[" + std::to_string(i) + "]"));
  }
  if (!j["ok"].is_boolean() || j["ok"].get<bool>() != r.ok()) {
    report_error(where + ".ok: does not match the steps' statuses");
  }
  return r;
}

case_spec spec_of(const json& j, const std::string& where) {
  expect_keys(j, where, {"problem", "fill", "state", "seed", "steps", "origin"});
  case_spec s;
  s.problem = text_of(j["problem"], where + ".problem");
  s.fill = text_of(j["fill"], where + ".fill");
  s.state = text_of(j["state"], where + ".state");
  const std::int64_t seed = integer_of(j["seed"], where + ".seed");
  if (seed < 0) report_error(where + ".seed: negative");
  s.seed = static_cast<std::uint64_t>(seed);
  std::stringstream steps(text_of(j["steps"], where + ".steps"));
  for (std::string step; std::getline(steps, step, ',');) s.steps.push_back(step);
  s.origin = text_of(j["origin"], where + ".origin");
  return s;
}

void verify_checksum(std::string_view text, const std::string& path) {
  const std::size_t at = text.find(checksum_key);
  if (at == std::string_view::npos || text.size() < at + checksum_key.size() + checksum_digits) {
    report_error(path + ": no \"sha256\" checksum");
  }
  const std::size_t digits = at + checksum_key.size();
  const std::string recorded(text.substr(digits, checksum_digits));
  std::string zeroed(text);
  zeroed.replace(digits, checksum_digits, std::string(checksum_digits, '0'));
  const std::string computed = sha256_hex(zeroed);
  if (recorded != computed) {
    report_error(path + ": checksum mismatch (recorded sha256 " + recorded + ", the content has " +
                 computed +
                 "): the file was edited or damaged; restore it (git checkout) or regenerate "
                 "it with `bnconform golden regen`");
  }
}

// Expected outputs must belong to the case: one result per step, same operation.
void check_fit(const golden_case& g, const std::string& path) {
  if (g.expected.steps.size() != g.inputs.steps.size()) {
    report_error(path + ": expected has " + std::to_string(g.expected.steps.size()) +
                 " steps but the case has " + std::to_string(g.inputs.steps.size()));
  }
  for (std::size_t i = 0; i < g.inputs.steps.size(); ++i) {
    const std::string where = path + ": expected.steps[" + std::to_string(i) + "]";
    if (g.expected.steps[i].op != g.inputs.steps[i].op) report_error(where + ": wrong op");
    if (g.expected.steps[i].problem != g.inputs.steps[i].prob.to_string()) {
      report_error(where + ": problem does not match the case's step");
    }
  }
  for (const external_step& e : g.external) {
    if (e.step >= g.inputs.steps.size()) report_error(path + ": external step out of range");
  }
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    report_error("SHA-256 failed (OpenSSL)");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

// Embeds a multi-line JSON text as a member value two levels deep.
std::string nested(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

std::string to_text(const golden_case& g) {
  std::string s = "{\n";
  s += "  \"format\": " + json_string(format_version) + ",\n";
  s += "  " + std::string(checksum_key) + std::string(checksum_digits, '0') + "\",\n";
  s += "  \"name\": " + json_string(g.name) + ",\n";
  if (g.spec) s += "  \"spec\": " + spec_json(*g.spec) + ",\n";
  if (g.imported) s += "  \"import\": " + import_json(*g.imported) + ",\n";
  s += "  \"provenance\": {\"generator\": " + json_string(g.origin.generator) +
       ", \"reference\": " + json_string(g.origin.reference) +
       ", \"libraries\": " + json_string(g.origin.libraries) + "},\n";
  s += "  \"case\": " + nested(to_json(g.inputs, true)) + ",\n";
  s += "  \"expected\": " + nested(to_json(g.expected, true));
  if (!g.external.empty()) s += ",\n  \"external\": " + external_json(g.external);
  s += "\n}\n";
  const std::size_t digits = s.find(checksum_key) + checksum_key.size();
  s.replace(digits, checksum_digits, sha256_hex(s));
  return s;
}

golden_case parse_golden(std::string_view text, const std::string& path) {
  const json doc = parse_json(text, path);
  expect_keys(doc, path, {"format", "sha256", "name", "provenance", "case", "expected"},
              {"spec", "import", "external"});
  const std::string format = text_of(doc["format"], path + ": format");
  if (format != format_version) {
    report_error(path + ": format " + json_string(format) + " is not " +
                 json_string(format_version));
  }
  verify_checksum(text, path);
  const std::string name = text_of(doc["name"], path + ": name");
  golden_case g(name, parse_case(doc["case"].dump(), path + ": case"));
  if (doc.contains("spec") == doc.contains("import")) {
    report_error(path + ": expected exactly one of \"spec\" and \"import\"");
  }
  if (doc.contains("spec")) {
    g.spec = spec_of(doc["spec"], path + ": spec");
    g.spec->name = g.name;
  } else {
    const json& i = doc["import"];
    expect_keys(i, path + ": import", {"source", "test", "package", "operator"});
    g.imported = import_source{text_of(i["source"], path + ": import.source"),
                               text_of(i["test"], path + ": import.test"),
                               text_of(i["package"], path + ": import.package"),
                               text_of(i["operator"], path + ": import.operator")};
  }
  const json& p = doc["provenance"];
  expect_keys(p, path + ": provenance", {"generator", "reference", "libraries"});
  g.origin = {text_of(p["generator"], path + ": provenance.generator"),
              text_of(p["reference"], path + ": provenance.reference"),
              text_of(p["libraries"], path + ": provenance.libraries")};
  g.inputs.path = g.name;
  g.expected = expected_of(doc["expected"], path + ": expected");
  if (doc.contains("external")) {
    const json& e = doc["external"];
    if (!e.is_array()) report_error(path + ": external: expected an array");
    for (std::size_t i = 0; i < e.size(); ++i) {
      const std::string where = path + ": external[" + std::to_string(i) + "]";
      expect_keys(e[i], where, {"step", "outputs"});
      const std::int64_t step = integer_of(e[i]["step"], where + ".step");
      if (step < 0) report_error(where + ".step: negative");
      g.external.push_back(
          {static_cast<std::size_t>(step),
           tensors_of(e[i]["outputs"], where + ".outputs", {"y", "running_mean", "running_var"})});
    }
  }
  if (g.spec) {
    // The spec says what the case is; a resealed edit of either must not pass.
    const auto spec_problem = [&] {
      try {
        return problem::parse(g.spec->problem);
      } catch (const error& e) {
        report_error(path + ": spec.problem: " + e.what());
      }
    }();
    if (!(spec_problem == g.inputs.base)) {
      report_error(path + ": spec.problem does not describe the case's problem");
    }
  }
  check_fit(g, path);
  return g;
}

golden_case read_golden_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) report_error(path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) report_error(path + ": cannot read");
  return parse_golden(text.str(), path);
}

bool same_data(std::string_view a, std::string_view b) {
  const auto strip = [](std::string_view text) {
    std::string out;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("  \"sha256\"") || line.starts_with("  \"provenance\"")) continue;
      out += line + '\n';
    }
    return out;
  };
  return strip(a) == strip(b);
}

}  // namespace bnconform::golden
