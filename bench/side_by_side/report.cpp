#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

namespace bnconform::bench {

namespace {

// The bandwidth target: at least this fraction of the triad on the large shape.
constexpr double bandwidth_target = 0.8;

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::optional<double> best_peer_seconds(const std::vector<contender>& kernels,
                                        const case_result& r) {
  std::optional<double> best;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    if (!kernels[k].is_peer || !r.times[k].ok) continue;
    if (!best || r.times[k].median_seconds < *best) best = r.times[k].median_seconds;
  }
  return best;
}

// The fastest peer whose answer on the offset input passed strict: the comparison
// the speed target means when a peer's speed comes with answers outside the budget.
std::optional<double> best_strict_peer_seconds(const std::vector<contender>& kernels,
                                               const case_result& r) {
  std::optional<double> best;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    if (!kernels[k].is_peer || !r.times[k].ok || k >= r.accuracies.size()) continue;
    const accuracy& a = r.accuracies[k];
    if (!a.judged || (a.verdict != "pass" && a.verdict != "ill_posed")) continue;
    if (!best || r.times[k].median_seconds < *best) best = r.times[k].median_seconds;
  }
  return best;
}

std::string accuracy_text(const std::vector<accuracy>& a, std::size_t k) {
  if (k >= a.size() || !a[k].judged) return "-";
  // A ratio of 0 everywhere: every value was exact or the correctly rounded one
  // (check/comparison.cpp), so no output is worst.
  if (a[k].worst_ratio == 0 && a[k].worst_output.empty())
    return a[k].verdict + " (0.00: all correctly rounded)";
  return a[k].verdict + " (" + fixed(a[k].worst_ratio, 2) +
         (a[k].worst_output.empty() ? "" : " " + a[k].worst_output) + ")";
}

}  // namespace

void write_report(std::ostream& out, const run_context& ctx, const std::vector<contender>& kernels,
                  const std::vector<case_result>& results) {
  const double triad = ctx.triad.bytes_per_second;
  out << "# Side-by-side benchmark\n\n"
      << "- date: " << ctx.date_utc << "\n"
      << "- machine: " << ctx.machine << "\n"
      << "- command: `" << ctx.command << "`\n"
      << "- threads: " << ctx.threads << "\n"
      << "- STREAM triad: " << fixed(triad * 1e-9, 2) << " GB/s (best of the runs, "
      << ctx.triad.elements << " doubles per array, " << ctx.triad.threads
      << " threads; the better of " << fixed(ctx.triad_before.bytes_per_second * 1e-9, 2)
      << " GB/s before the cases and " << fixed(ctx.triad_after.bytes_per_second * 1e-9, 2)
      << " GB/s after them)\n"
      << "- kernels:";
  for (const contender& k : kernels) {
    out << " " << k.name << " (" << k.judged->version;
    if (!k.detail.empty()) out << ", " << k.detail;
    out << ");";
  }
  out << "\n- time: median of the repeated calls after warm-up, through the ABI with\n"
      << "  preallocated buffers; GB/s counts the minimum traffic (each input read once,\n"
      << "  each output written once); \"% triad\" is the two-pass traffic (the\n"
      << "  statistics pass reads x, and dy, once more) over time, as a fraction of the\n"
      << "  triad; \"vs best peer\" is the best peer's time over this kernel's time (> 1:\n"
      << "  faster), \"vs best strict peer\" the same over the peers whose answer on the\n"
      << "  offset input passed strict (\"-\": none did); all kernels of a case are timed\n"
      << "  in interleaved rounds (one call each in turn), so load from elsewhere on the\n"
      << "  machine slows them alike; accuracy is check's verdict at strict and the worst budget "
         "ratio on\n"
      << "  an offset input, channel-sliced to at most " << ctx.accuracy_reduction
      << " values per channel.\n\n";

  out << "| case | kernel | time (ms) | GB/s (min traffic) | % triad (two-pass) | vs best peer "
         "| vs best strict peer | accuracy, strict (worst ratio) |\n"
      << "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const case_result& r : results) {
    const std::optional<double> best = best_peer_seconds(kernels, r);
    const std::optional<double> best_strict = best_strict_peer_seconds(kernels, r);
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      const timing& t = r.times[k];
      out << "| " << r.c.label() << " | " << kernels[k].name << " | ";
      if (!t.ok) {
        out << "n/a: " << t.error << " | | | | | " << accuracy_text(r.accuracies, k) << " |\n";
        continue;
      }
      const double s = t.median_seconds;
      out << fixed(s * 1e3, 3) << " | " << fixed(r.c.minimum_bytes() / s * 1e-9, 1) << " | "
          << fixed(100.0 * r.c.two_pass_bytes() / s / triad, 0) << "% | "
          << (best ? fixed(*best / s, 2) : std::string("-")) << " | "
          << (best_strict ? fixed(*best_strict / s, 2) : std::string("-")) << " | "
          << accuracy_text(r.accuracies, k) << " |\n";
    }
  }

  // The performance targets, for the CPU kernel (the contender that is not a peer).
  const auto own =
      std::find_if(kernels.begin(), kernels.end(), [](const contender& k) { return !k.is_peer; });
  out << "\n## Targets\n\n";
  if (own == kernels.end()) {
    out << "The CPU kernel was not built: no targets to judge.\n";
    return;
  }
  const auto k = static_cast<std::size_t>(own - kernels.begin());
  // The speed target counted against one choice of peer time.
  struct speed_tally {
    int faster = 0, compared = 0;
    std::string slower;
    void add(const timing& t, const std::optional<double>& peer, const std::string& label) {
      if (!t.ok || !peer) return;
      ++compared;
      if (t.median_seconds < *peer)
        ++faster;
      else
        slower += " " + label + ";";
    }
  };
  speed_tally any_peer, strict_peer;
  int accurate = 0, judged = 0, bandwidth_met = 0, large = 0, no_strict_peer = 0;
  std::string inaccurate, short_of_bandwidth;
  for (const case_result& r : results) {
    const timing& t = r.times[k];
    const std::optional<double> best = best_peer_seconds(kernels, r);
    const std::optional<double> best_strict = best_strict_peer_seconds(kernels, r);
    any_peer.add(t, best, r.c.label());
    strict_peer.add(t, best_strict, r.c.label());
    if (t.ok && best && !best_strict && !r.accuracies.empty()) ++no_strict_peer;
    if (k < r.accuracies.size() && r.accuracies[k].judged) {
      ++judged;
      if (r.accuracies[k].verdict == "pass" || r.accuracies[k].verdict == "ill_posed")
        ++accurate;
      else
        inaccurate += " " + r.c.label() + ";";
    }
    if (r.c.large && t.ok) {
      ++large;
      const double fraction = r.c.two_pass_bytes() / t.median_seconds / triad;
      if (fraction >= bandwidth_target)
        ++bandwidth_met;
      else
        short_of_bandwidth += " " + r.c.label() + " (" + fixed(100 * fraction, 0) + "%);";
    }
  }
  out << "- faster than the best peer: " << any_peer.faster << " of " << any_peer.compared
      << " cases" << (any_peer.slower.empty() ? "" : "; slower on:" + any_peer.slower) << "\n";
  if (strict_peer.compared + no_strict_peer > 0) {
    out << "- faster than the best peer that passed strict: " << strict_peer.faster << " of "
        << strict_peer.compared << " cases (" << no_strict_peer << " more have no such peer)"
        << (strict_peer.slower.empty() ? "" : "; slower on:" + strict_peer.slower) << "\n";
  }
  out << "- strict accuracy on the offset input: " << accurate << " of " << judged
      << (inaccurate.empty() ? "" : "; not on:" + inaccurate) << "\n"
      << "- at least " << fixed(100 * bandwidth_target, 0)
      << "% of the triad (two-pass traffic) on the large shape: " << bandwidth_met << " of "
      << large << (short_of_bandwidth.empty() ? "" : "; short on:" + short_of_bandwidth) << "\n";
}

}  // namespace bnconform::bench
