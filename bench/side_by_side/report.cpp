#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace bnconform::bench {

namespace {

// The bandwidth target: at least this fraction of the triad on DRAM-bound cases.
constexpr double bandwidth_target = 0.8;

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string mib(std::int64_t bytes) {
  return fixed(static_cast<double>(bytes) / static_cast<double>(std::int64_t{1} << 20), 1) + " MiB";
}

std::string ratio_text(const std::optional<speed_ratio>& s) {
  if (!s) return "-";
  return fixed(s->estimate, 2) + " [" + fixed(s->low, 2) + ", " + fixed(s->high, 2) + "] " +
         std::string(name_of(s->verdict));
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

// The fastest peer's median (the peers' rows compare with it).
std::optional<double> best_peer_seconds(const std::vector<contender>& kernels,
                                        const case_result& r) {
  std::optional<double> best;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    if (!kernels[k].is_peer || !r.times[k].ok) continue;
    if (!best || r.times[k].median_seconds < *best) best = r.times[k].median_seconds;
  }
  return best;
}

// Faster, tie and slower counts of the kernel under test against one choice of peer.
struct verdict_tally {
  int count[3] = {0, 0, 0};
  int compared = 0;
  std::string slower;
  void add(const std::optional<speed_ratio>& s, const std::string& label) {
    if (!s) return;
    ++compared;
    ++count[static_cast<int>(s->verdict)];
    if (s->verdict == speed_verdict::slower)
      slower += " " + label + " (" + fixed(s->estimate, 2) + ");";
  }
  std::string text() const {
    return std::to_string(count[0]) + " faster, " + std::to_string(count[1]) + " tie, " +
           std::to_string(count[2]) + " slower of " + std::to_string(compared) + " cases" +
           (slower.empty() ? "" : "; slower on:" + slower);
  }
};

}  // namespace

bool passed_strict(const case_result& r, std::size_t k) {
  if (k >= r.accuracies.size() || !r.accuracies[k].judged) return false;
  return r.accuracies[k].verdict == "pass" || r.accuracies[k].verdict == "ill_posed";
}

void rate_speed(case_result& r, const std::vector<contender>& kernels, const bootstrap_options& opt,
                std::uint64_t case_index) {
  r.vs_peer.reset();
  r.vs_strict_peer.reset();
  if (r.times.empty() || !r.times[0].ok) return;
  std::vector<const std::vector<double>*> peers, strict_peers;
  for (std::size_t k = 1; k < kernels.size(); ++k) {
    // A peer that sat out is certainly slower than one that stayed in its class.
    if (!r.times[k].ok || r.times[k].sat_out) continue;
    peers.push_back(&r.times[k].per_round);
    if (passed_strict(r, k)) strict_peers.push_back(&r.times[k].per_round);
  }
  bootstrap_options o = opt;
  o.seed = opt.seed + 0x9e3779b97f4a7c15ull * (case_index + 1);
  const std::vector<std::size_t>& passes = r.times[0].rounds_per_pass;
  if (!peers.empty()) r.vs_peer = bootstrap_speed_ratio(r.times[0].per_round, peers, o, passes);
  if (!strict_peers.empty())
    r.vs_strict_peer = bootstrap_speed_ratio(r.times[0].per_round, strict_peers, o, passes);
}

void write_report(std::ostream& out, const run_context& ctx, const std::vector<contender>& kernels,
                  const std::vector<case_result>& results) {
  const double triad = ctx.triad.bytes_per_second;
  const std::string confidence = fixed(100 * ctx.bootstrap.confidence, 0) + "%";
  out << "# Side-by-side benchmark\n\n"
      << "- date: " << ctx.date_utc << "\n"
      << "- machine: " << ctx.machine << "\n"
      << "- reproduce: `" << ctx.command << "`\n"
      << "- threads: " << ctx.threads << "\n"
      << "- STREAM triad: " << fixed(triad * 1e-9, 2) << " GB/s (best of the runs, "
      << ctx.triad.elements << " doubles per array, " << ctx.triad.threads
      << " threads; the better of " << fixed(ctx.triad_before.bytes_per_second * 1e-9, 2)
      << " GB/s before the cases and " << fixed(ctx.triad_after.bytes_per_second * 1e-9, 2)
      << " GB/s after them)\n"
      << "- last-level cache: " << mib(ctx.cache.bytes) << " (" << ctx.cache.source
      << "); a case is \"cache\" when all the tensors of its call fit in it together, "
      << "\"DRAM\" when one tensor alone is at least " << fixed(dram_factor, 0)
      << " times it, \"mixed\" in between\n"
      << "- kernels:";
  for (const contender& k : kernels) {
    out << " " << k.name << " (" << (k.is_peer ? "" : "under test; ") << k.judged->version;
    if (!k.detail.empty()) out << ", " << k.detail;
    out << ");";
  }
  out << "\n- time: median over interleaved rounds (each round gives every kernel one turn\n"
      << "  of as many calls as fill about 2 ms, the order rotating), measured in " << ctx.passes
      << " passes\n  over all the cases (fresh buffers each), through the ABI with\n"
      << "  preallocated buffers; GB/s counts the minimum traffic (each input read once,\n"
      << "  each output written once); \"% triad\" is the two-pass traffic (the statistics\n"
      << "  pass reads x, and dy, once more) over time, as a fraction of the triad, on\n"
      << "  DRAM-bound cases only (elsewhere the cache serves some of it); \"vs best peer\"\n"
      << "  is the fastest peer's time over the kernel under test's time (> 1: faster)\n"
      << "  with its " << confidence << " bootstrap interval (" << ctx.bootstrap.resamples
      << " resamples: passes drawn, then whole rounds within them)\n"
      << "  and the verdict: faster or slower when the interval excludes 1, else tie;\n"
      << "  \"vs best strict peer\" the same over the peers whose answer on the offset\n"
      << "  input passed strict (\"-\": none did); a peer whose fastest of the first 5\n"
      << "  rounds was 1.5 times slower than another peer's slowest (of the same strictness\n"
      << "  or stricter) sat out the rest (\"sat out\"), as it cannot be the best; accuracy is "
         "check's verdict at strict\n"
      << "  and the worst budget ratio on an offset input, channel-sliced to at most "
      << ctx.accuracy_reduction << "\n  values per channel.\n";
  if (!ctx.plot_file.empty())
    out << "- plot: [" << ctx.plot_file << "](" << ctx.plot_file
        << "), the kernel under test against the best peer, per case, with the intervals\n";
  out << "\n";

  out << "| case | data in | kernel | time (ms) | GB/s (min traffic) | % triad (two-pass) "
         "| vs best peer | vs best strict peer | accuracy, strict (worst ratio) |\n"
      << "|---|---|---|---:|---:|---:|---|---|---|\n";
  for (const case_result& r : results) {
    const memory_regime regime = regime_of(r.c, ctx.cache.bytes);
    const std::optional<double> best = best_peer_seconds(kernels, r);
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      const timing& t = r.times[k];
      out << "| " << r.c.label() << " | " << name_of(regime) << " | " << kernels[k].name << " | ";
      if (!t.ok) {
        out << (t.unsupported ? "unsupported: " : "n/a: ") << t.error << " | | | | | "
            << accuracy_text(r.accuracies, k) << " |\n";
        continue;
      }
      const double s = t.median_seconds;
      out << fixed(s * 1e3, 3) << (t.sat_out ? " (sat out)" : "") << " | "
          << fixed(r.c.minimum_bytes() / s * 1e-9, 1) << " | "
          << (regime == memory_regime::dram
                  ? fixed(100.0 * r.c.two_pass_bytes() / s / triad, 0) + "%"
                  : std::string("-"))
          << " | ";
      if (k == 0)
        out << ratio_text(r.vs_peer) << " | " << ratio_text(r.vs_strict_peer);
      else
        out << (best ? fixed(*best / s, 2) : std::string("-")) << " | ";
      out << " | " << accuracy_text(r.accuracies, k) << " |\n";
    }
  }

  out << "\n## Targets\n\n";
  if (kernels.empty()) return;
  verdict_tally any_peer, strict_peer, dram_strict_peer;
  int accurate = 0, judged = 0, bandwidth_met = 0, dram = 0, no_strict_peer = 0;
  std::map<memory_regime, int> regimes;
  std::string inaccurate, short_of_bandwidth;
  for (const case_result& r : results) {
    const timing& t = r.times[0];
    const memory_regime regime = regime_of(r.c, ctx.cache.bytes);
    ++regimes[regime];
    any_peer.add(r.vs_peer, r.c.label());
    strict_peer.add(r.vs_strict_peer, r.c.label());
    if (regime == memory_regime::dram) dram_strict_peer.add(r.vs_strict_peer, r.c.label());
    if (r.vs_peer && !r.vs_strict_peer && !r.accuracies.empty()) ++no_strict_peer;
    if (!r.accuracies.empty() && r.accuracies[0].judged) {
      ++judged;
      if (passed_strict(r, 0))
        ++accurate;
      else
        inaccurate += " " + r.c.label() + ";";
    }
    if (regime == memory_regime::dram && t.ok) {
      ++dram;
      const double fraction = r.c.two_pass_bytes() / t.median_seconds / triad;
      if (fraction >= bandwidth_target)
        ++bandwidth_met;
      else
        short_of_bandwidth += " " + r.c.label() + " (" + fixed(100 * fraction, 0) + "%);";
    }
  }
  out << "The kernel under test, " << kernels[0].name << ", at " << confidence
      << " confidence; the cases: " << regimes[memory_regime::cache] << " cache, "
      << regimes[memory_regime::mixed] << " mixed, " << regimes[memory_regime::dram] << " DRAM.\n\n"
      << "- against the best peer: " << any_peer.text() << "\n";
  if (strict_peer.compared + no_strict_peer > 0) {
    out << "- against the best peer that passed strict: " << strict_peer.text() << " ("
        << no_strict_peer << " more have no such peer)\n"
        << "- against the best peer that passed strict, DRAM-bound cases: "
        << dram_strict_peer.text() << "\n";
  }
  out << "- strict accuracy on the offset input: " << accurate << " of " << judged
      << (inaccurate.empty() ? "" : "; not on:" + inaccurate) << "\n"
      << "- at least " << fixed(100 * bandwidth_target, 0)
      << "% of the triad (two-pass traffic) on the DRAM-bound cases: " << bandwidth_met << " of "
      << dram << (short_of_bandwidth.empty() ? "" : "; short on:" + short_of_bandwidth) << "\n";
}

}  // namespace bnconform::bench
