#include "judge.hpp"

#include <cmath>
#include <cstring>
#include <optional>

#include "rank_record.hpp"
#include "reference/reference.hpp"

namespace bnconform::distributed {

namespace {

std::string rank_text(int r) { return "rank " + std::to_string(r); }

// The first rank whose tensor differs from rank 0's, bit for bit.
std::string differs_across_ranks(const char* name, const std::vector<rank_record>& records,
                                 std::size_t step, const tensor step_record::*member) {
  const tensor& first = records[0].steps[step][0].*member;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const tensor& other = records[r].steps[step][0].*member;
    if (other.bitwise_equal(first)) continue;
    for (std::int64_t i = 0; i < std::min(first.size(), other.size()); ++i) {
      if (std::memcmp(static_cast<const std::byte*>(first.data()) + i * size_of(first.type()),
                      static_cast<const std::byte*>(other.data()) + i * size_of(other.type()),
                      size_of(first.type())) != 0) {
        return std::string(name) + "[" + std::to_string(i) + "] is " +
               check::exact_text(other.get(i), other.type()) + " on " +
               rank_text(static_cast<int>(r)) + " and " +
               check::exact_text(first.get(i), first.type()) + " on rank 0";
      }
    }
    return std::string(name) + " differs between rank 0 and " + rank_text(static_cast<int>(r));
  }
  return {};
}

std::string state_differs(const module_state& a, const module_state& b, const char* what) {
  if (!a.running_mean.bitwise_equal(b.running_mean)) return std::string("running_mean ") + what;
  if (!a.running_var.bitwise_equal(b.running_var)) return std::string("running_var ") + what;
  if (a.num_batches_tracked != b.num_batches_tracked) {
    return std::string("num_batches_tracked ") + what;
  }
  return {};
}

// The rules of a distributed step beyond the error model; empty when kept.
std::string distributed_rules(const std::vector<rank_record>& records, std::size_t step,
                              step_kind kind, const char* stats_a, const char* stats_b) {
  const step_record& first = records[0].steps[step][0];
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& runs = records[r].steps[step];
    if (runs[0].status.code != first.status.code) {
      return "the ranks disagree on the status: " +
             std::string(bnconform::name_of(first.status.code)) + " on rank 0, " +
             std::string(bnconform::name_of(runs[0].status.code)) + " on " +
             rank_text(static_cast<int>(r));
    }
    if (mode_of(kind) == mode::eval && runs[0].collectives > 0) {
      return "an eval call entered " + std::to_string(runs[0].collectives) + " collective(s) on " +
             rank_text(static_cast<int>(r)) + ": eval never communicates";
    }
  }
  for (const auto& [name, member] :
       {std::pair{stats_a, &step_record::stats_a}, std::pair{stats_b, &step_record::stats_b}}) {
    if (mode_of(kind) == mode::eval) break;  // each rank's own call
    if (std::string d = differs_across_ranks(name, records, step, member); !d.empty()) {
      return "every rank must hold the global " + std::string(name) + ": " + d;
    }
  }
  for (std::size_t r = 1; r < records.size(); ++r) {
    const std::string d =
        state_differs(records[r].steps[step][0].state_after, first.state_after,
                      ("differs between rank 0 and " + rank_text(static_cast<int>(r))).c_str());
    if (!d.empty()) return "the module state must stay the same on every rank: " + d;
  }
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& runs = records[r].steps[step];
    std::string d;
    if (runs[1].status.code != runs[0].status.code) d = "the status";
    if (d.empty() && !runs[1].data.bitwise_equal(runs[0].data)) d = is_backward(kind) ? "dx" : "y";
    if (d.empty() && !runs[1].stats_a.bitwise_equal(runs[0].stats_a)) d = stats_a;
    if (d.empty() && !runs[1].stats_b.bitwise_equal(runs[0].stats_b)) d = stats_b;
    if (d.empty()) d = state_differs(runs[1].state_after, runs[0].state_after, "");
    if (!d.empty()) {
      return "nondeterministic: " + d + " differs between two runs on " +
             rank_text(static_cast<int>(r));
    }
  }
  return {};
}

std::vector<guard_finding> guards_of(const std::vector<rank_record>& records, std::size_t step) {
  std::vector<guard_finding> out;
  for (std::size_t r = 0; r < records.size(); ++r) {
    for (guard_finding g : records[r].steps[step][0].guards) {
      g.buffer +=
          (g.buffer.empty() ? "" : " ") + std::string("on ") + rank_text(static_cast<int>(r));
      out.push_back(std::move(g));
    }
  }
  return out;
}

void fail_with(check::comparison& c, const std::string& reason) {
  c.first_mismatches.insert(c.first_mismatches.begin(), reason);
  if (c.first_mismatches.size() > 10) c.first_mismatches.pop_back();
  if (!c.passed() && c.result != check::verdict::unsupported) return;  // its own reason first
  c.result = check::verdict::fail;
  c.reason = reason;
}

}  // namespace

call_judgement judge_call(const distributed_call& call, int index, const std::string& directory,
                          const check::options& opt) {
  call_judgement out;
  std::vector<rank_record> records;
  const std::vector<step_kind> steps = call.step_list();
  for (int r = 0; r < call.ranks(); ++r) {
    std::optional<rank_record> rec = read_record(record_path(directory, index, r));
    if (!rec || rec->steps.size() != steps.size()) {
      out.missing += (out.missing.empty() ? "" : ", ") + rank_text(r);
      continue;
    }
    records.push_back(std::move(*rec));
  }
  if (!out.missing.empty()) {
    out.missing += " wrote no record of the call";
    return out;
  }
  module_state state = call.step_inputs(0).state;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const step_kind kind = steps[k];
    const bool backward = is_backward(kind);
    const sharding shards(call.step_problem(k), call.batches);
    const problem& p = shards.global();
    const properties::case_inputs in = call.step_inputs(k);
    std::vector<tensor> parts;
    for (const rank_record& rec : records) parts.push_back(rec.steps[k][0].data);
    const step_record& first = records[0].steps[k][0];
    // A training step is one call on the whole batch; an eval step communicates
    // nothing, so each rank's is a call of its own, judged on its own shard (dgamma
    // and dbeta are then that rank's sums, as in PyTorch, whose data-parallel
    // wrapper reduces parameter gradients afterwards).
    const bool collective = mode_of(kind) == mode::training;
    std::optional<check::comparison> worst;
    for (int r = 0; r < (collective ? 1 : call.ranks()); ++r) {
      const std::size_t first_rank = collective ? 0 : static_cast<std::size_t>(r);
      const step_record& mine = records[first_rank].steps[k][0];
      const problem judged = collective ? p : shards.problem_of(r);
      const tensor x = collective ? in.x : shards.slice(in.x, r);
      const tensor dy = collective ? in.dy : shards.slice(in.dy, r);
      const tensor data = collective ? shards.join(parts) : mine.data;
      check::comparison one = check::with_enough_precision(opt, [&](const check::options& o) {
        const reference::options ref{o.reference_bits};
        if (!backward) {
          forward_outputs got;
          got.status = mine.status;
          got.y = data;
          got.save_mean = mine.stats_a;
          got.save_invstd = mine.stats_b;
          got.guards = guards_of(records, k);
          const reference::call_inputs ci = reference::call_inputs::from(x, tensor(), state);
          const reference::forward_result expected = reference::forward(judged, ci, ref);
          const auto q = expected.status.ok() ? reference::quantities(judged, ci, ref)
                                              : std::vector<reference::channel_quantities>{};
          return check::compare_forward(judged, x, state, expected, q, got, mine.state_after, o);
        }
        backward_outputs got;
        got.status = mine.status;
        got.dx = data;
        got.dgamma = mine.stats_a;
        got.dbeta = mine.stats_b;
        got.guards = guards_of(records, k);
        const reference::call_inputs ci = reference::call_inputs::from(x, dy, state);
        const reference::backward_result expected = reference::backward(judged, ci, ref);
        const auto q = expected.status.ok() ? reference::quantities(judged, ci, ref)
                                            : std::vector<reference::channel_quantities>{};
        return check::compare_backward(judged, x, dy, state, expected, q, got, o);
      });
      if (!collective && !one.reason.empty()) one.reason = rank_text(r) + ": " + one.reason;
      const bool worse = !worst || check::severity(one.result) > check::severity(worst->result) ||
                         (check::severity(one.result) == check::severity(worst->result) &&
                          one.worst_ratio > worst->worst_ratio);
      if (worse) worst = std::move(one);
    }
    check::comparison cmp = std::move(*worst);
    const std::string broken = distributed_rules(
        records, k, kind, backward ? "dgamma" : "save_mean", backward ? "dbeta" : "save_invstd");
    if (!broken.empty()) fail_with(cmp, broken);
    if (collective && !cmp.worst_index.empty() &&
        (cmp.worst_output == "y" || cmp.worst_output == "dx")) {
      cmp.notes.push_back("the worst element, " + cmp.worst_output + " at sample " +
                          std::to_string(cmp.worst_index[0]) + ", is " +
                          rank_text(shards.rank_of_sample(cmp.worst_index[0])) + "'s");
    }
    const std::string where = "step " + std::to_string(k + 1) + " (" + std::string(name_of(kind)) +
                              ") over ranks " + shards.batches_text();
    if (!cmp.reason.empty()) cmp.reason = where + ": " + cmp.reason;
    cmp.repro = call.line();
    out.steps.push_back({p, backward, std::move(cmp)});
    if (!backward) state = first.state_after;
  }
  return out;
}

}  // namespace bnconform::distributed
