#include "regen.hpp"

#include <boost/version.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "fill.hpp"

namespace bnconform::golden {

provenance current_provenance() {
  provenance p;
  p.generator = std::string("bnconform ") + BNCONFORM_GOLDEN_VERSION + " (git " +
                BNCONFORM_GOLDEN_REVISION + ")";
  p.reference = "bnconform reference at " + std::to_string(reference_bits) +
                " bits (Boost.Multiprecision cpp_bin_float), self-checked at " +
                std::to_string(2 * reference_bits) +
                " bits, each output correctly rounded once (round to nearest even)";
  p.libraries = std::string("Boost ") + BOOST_LIB_VERSION + ", nlohmann_json " +
                std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                std::to_string(NLOHMANN_JSON_VERSION_PATCH) + ", " + BNCONFORM_GOLDEN_COMPILER;
  return p;
}

golden_case generate(const case_spec& spec, const kernel& reference) {
  golden_case g(spec.name, make_case(spec));
  g.spec = spec;
  g.origin = current_provenance();
  g.expected = run_case(reference, g.inputs);
  return g;
}

golden_case regenerate(golden_case imported, const kernel& reference) {
  imported.origin = current_provenance();
  imported.inputs.path = imported.name;
  imported.expected = run_case(reference, imported.inputs);
  return imported;
}

}  // namespace bnconform::golden
