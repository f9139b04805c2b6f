#include "case_draw.hpp"

#include <rapidcheck.h>

#include <optional>

#include "case_generator.hpp"
#include "core/error.hpp"

namespace bnconform::properties {

namespace {

rc::Shrinkable<generated_case> draw(const kernel& k, std::uint64_t campaign_seed,
                                    std::uint64_t index, const draw_options& opt) {
  case_needs needs;
  needs.kinds = opt.kinds;
  const rc::Gen<generated_case> gen = case_generator(k, needs, opt.limits);
  return gen(rc::Random(case_seed(campaign_seed, index)), rc::kNominalSize);
}

generated_case value_of(const rc::Shrinkable<generated_case>& s) {
  try {
    return s.value();
  } catch (const rc::GenerationFailure& e) {
    report_error(std::string("cannot draw a case: ") + e.what());
  }
}

}  // namespace

std::uint64_t case_seed(std::uint64_t campaign_seed, std::uint64_t index) {
  // Two splitmix64 steps over the pair: neighbouring indices and seeds give
  // unrelated streams.
  random_source mix(campaign_seed ^ (0x9e3779b97f4a7c15ull * (index + 1)));
  mix.next();
  return mix.next();
}

generated_case draw_case(const kernel& k, std::uint64_t campaign_seed, std::uint64_t index,
                         const draw_options& opt) {
  return value_of(draw(k, campaign_seed, index, opt));
}

shrink_result shrink_case(const kernel& k, std::uint64_t campaign_seed, std::uint64_t index,
                          const draw_options& opt,
                          const std::function<bool(const generated_case&)>& still_fails,
                          int max_tries) {
  rc::Shrinkable<generated_case> current = draw(k, campaign_seed, index, opt);
  shrink_result out{value_of(current), 0, 0};
  bool moved = true;
  while (moved && out.tries < max_tries) {
    moved = false;
    rc::Seq<rc::Shrinkable<generated_case>> candidates = current.shrinks();
    while (out.tries < max_tries) {
      rc::Maybe<rc::Shrinkable<generated_case>> next = candidates.next();
      if (!next) break;
      std::optional<generated_case> candidate;
      try {
        candidate = next->value();
      } catch (const rc::GenerationFailure&) {
        continue;  // a shrink the generator cannot make
      }
      ++out.tries;
      if (still_fails(*candidate)) {
        current = std::move(*next);
        out.smallest = std::move(*candidate);
        ++out.steps;
        moved = true;
        break;
      }
    }
  }
  return out;
}

}  // namespace bnconform::properties
