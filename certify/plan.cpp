#include "plan.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "battery/degenerate_catalog.hpp"
#include "battery/malformed_calls.hpp"
#include "battery/view_cases.hpp"
#include "cell.hpp"
#include "core/error.hpp"
#include "core/splitmix64.hpp"
#include "distributed/distributed_cases.hpp"
#include "golden/catalog.hpp"
#include "properties/properties.hpp"
#include "realistic.hpp"
#include "reproducibility.hpp"

namespace bnconform::certify {

namespace {

constexpr std::array<group, 10> groups{
    group::coverage, group::malformed, group::views,     group::degenerate,  group::reproducibility,
    group::golden,   group::gradient,  group::realistic, group::distributed, group::properties};

bool wanted(const settings& s, group g) {
  return std::find(s.groups.begin(), s.groups.end(), g) != s.groups.end();
}

// Gradient checks need f64 (finite differences in f32 have no useful bound): every
// component on small tensors, random directions on one above the full-check limit.
constexpr std::array<std::string_view, 3> gradient_shapes{"2x3x4", "3x2x2x3", "4x3x30"};

void add_gradient_items(const bnc_capabilities& caps, profile pf, plan& out) {
  bool any = false;
  for (const std::uint32_t op : {BNC_OP_BACKWARD_TRAINING, BNC_OP_BACKWARD_EVAL}) {
    const std::uint32_t forward =
        op == BNC_OP_BACKWARD_TRAINING ? BNC_OP_FORWARD_TRAINING : BNC_OP_FORWARD_EVAL;
    for (const layout l : {layout::channels_first, layout::channels_last}) {
      if (!declared(caps, {op, dtype::f64, l}) || !declared(caps, {forward, dtype::f64, l})) {
        continue;
      }
      for (const std::string_view shape : gradient_shapes) {
        std::string problem_text = "shape=" + std::string(shape) +
                                   ",dtype=f64,layout=" + std::string(name_of(l)) +
                                   ",mode=" + (op == BNC_OP_BACKWARD_TRAINING ? "train" : "eval");
        if (pf != profile::pytorch) problem_text += ",profile=" + std::string(name_of(pf));
        out.fixed.push_back({group::gradient, "gradient/" + problem_text, problem_text});
        any = true;
      }
    }
  }
  if (!any) {
    // Reported as unsupported, so that a reader sees the checks that did not run.
    out.fixed.push_back({group::gradient, "gradient/needs-f64-forward-and-backward", ""});
  }
}

}  // namespace

std::string_view name_of(group g) {
  switch (g) {
    case group::coverage: return "coverage";
    case group::malformed: return "malformed";
    case group::views: return "views";
    case group::degenerate: return "degenerate";
    case group::reproducibility: return "reproducibility";
    case group::golden: return "golden";
    case group::gradient: return "gradient";
    case group::realistic: return "realistic";
    case group::distributed: return "distributed";
    case group::properties: return "properties";
  }
  return "unknown";
}

std::vector<group> all_groups() { return {groups.begin(), groups.end()}; }

group parse_group(std::string_view text) {
  for (const group g : groups) {
    if (name_of(g) == text) return g;
  }
  report_error("unknown group '" + std::string(text) +
               "' (groups: coverage, malformed, views, degenerate, reproducibility, golden, "
               "gradient, realistic, distributed, properties)");
}

plan make_plan(const bnc_capabilities& caps, const settings& s) {
  plan out;
  if (wanted(s, group::coverage)) {
    for (const cell& c : all_cells()) {
      if (declared(caps, c))
        out.fixed.push_back({group::coverage, "coverage/" + to_string(c), to_string(c)});
    }
  }
  if (wanted(s, group::malformed)) {
    for (const battery::malformed_call& mc : battery::malformed_calls()) {
      if (battery::applies_to(mc, caps, profile_of(s))) {
        out.fixed.push_back({group::malformed, "malformed/" + mc.name(), mc.name()});
      }
    }
  }
  if (wanted(s, group::views)) {
    // Every declared dtype, in the certified profile; whether the kernel takes each
    // view is its features' business (the item says unsupported, and why).
    for (const dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      if ((caps.dtypes & BNC_BIT(to_abi(t))) == 0) continue;
      for (const battery::view_case& vc : battery::view_cases(t, profile_of(s))) {
        out.fixed.push_back({group::views, "views/" + vc.name + "/" + std::string(name_of(t)),
                             vc.prob.to_string()});
      }
    }
  }
  if (wanted(s, group::degenerate)) {
    for (const battery::degenerate_case& dc : battery::degenerate_catalog()) {
      if (dc.large) continue;  // minutes and gigabytes: `bnconform degenerate --large`
      out.fixed.push_back(
          {group::degenerate, "degenerate/" + std::string(dc.name), std::string(dc.name)});
    }
  }
  if (wanted(s, group::reproducibility)) {
    for (item& it : reproducibility_items(caps, s)) out.fixed.push_back(std::move(it));
  }
  if (wanted(s, group::golden)) {
    if (!std::filesystem::is_directory(s.golden_directory)) {
      report_error("golden cases: '" + s.golden_directory + "' is not a directory (see --golden)");
    }
    for (const std::string& path : golden::golden_files(s.golden_directory)) {
      out.fixed.push_back({group::golden, "golden/" + golden::name_of_path(path), path});
    }
  }
  if (wanted(s, group::gradient)) add_gradient_items(caps, profile_of(s), out);
  if (wanted(s, group::realistic) && s.realistic_ran_in.empty()) {
    for (item& it : realistic_items(caps, s)) out.fixed.push_back(std::move(it));
  }
  if (wanted(s, group::distributed) && s.ranks > 0) {
    for (const std::string& name : distributed::distributed_case_names()) {
      out.fixed.push_back({group::distributed, "distributed/" + name, name});
    }
  }
  out.properties = wanted(s, group::properties);
  return out;
}

std::optional<profile> parse_profile_name(std::string_view text) {
  for (const profile pf :
       {profile::pytorch, profile::onnx, profile::keras, profile::tf_fused, profile::flax}) {
    if (name_of(pf) == text) return pf;
  }
  return std::nullopt;
}

std::vector<std::string> parse_profile_list(std::string_view text) {
  constexpr std::string_view known = "pytorch, onnx, keras, tf-fused, flax, or all";
  if (text == "all") return {"pytorch", "onnx", "keras", "tf-fused", "flax"};
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view name = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (name == "all") {
      for (const std::string& each : parse_profile_list("all")) {
        if (std::find(out.begin(), out.end(), each) == out.end()) out.push_back(each);
      }
    } else if (!parse_profile_name(name)) {
      report_error("--profile: unknown profile '" + std::string(name) +
                   "' (profiles: " + std::string(known) + ")");
    } else if (std::find(out.begin(), out.end(), name) == out.end()) {
      out.emplace_back(name);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

profile profile_of(const settings& s) {
  const std::optional<profile> pf = parse_profile_name(s.profile);
  if (!pf) report_error("unknown profile '" + s.profile + "'");
  return *pf;
}

std::uint64_t round_seed(std::uint64_t seed, std::int64_t round) {
  splitmix64 mix(seed ^ (0xd1b54a32d192ed03ull * static_cast<std::uint64_t>(round + 1)));
  return mix.next();
}

std::int64_t property_count() {
  return static_cast<std::int64_t>(properties::all_properties().size());
}

std::string round_name(std::int64_t round) {
  const auto id = properties::all_properties()[static_cast<std::size_t>(round % property_count())];
  return "properties/" + std::string(properties::name_of(id)) + "#" +
         std::to_string(round / property_count());
}

}  // namespace bnconform::certify
