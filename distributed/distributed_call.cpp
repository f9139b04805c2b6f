#include "distributed_call.hpp"

#include <fstream>

#include "core/error.hpp"

namespace bnconform::distributed {

bool is_backward(step_kind s) {
  return s == step_kind::backward_training || s == step_kind::backward_eval;
}

mode mode_of(step_kind s) {
  return s == step_kind::forward_training || s == step_kind::backward_training ? mode::training
                                                                               : mode::eval;
}

std::string_view name_of(step_kind s) {
  switch (s) {
    case step_kind::forward_training: return "forward training";
    case step_kind::forward_eval: return "forward eval";
    case step_kind::backward_training: return "backward training";
    case step_kind::backward_eval: return "backward eval";
  }
  return "?";
}

std::vector<step_kind> distributed_call::step_list() const {
  std::vector<step_kind> out;
  for (const char c : steps) {
    if (c != 'T' && c != 'E' && c != 'B' && c != 'b') {
      report_error("steps: '" + steps + "' has '" + std::string(1, c) +
                   "' (T forward training, E forward eval, B backward training, b backward eval)");
    }
    out.push_back(static_cast<step_kind>(c));
  }
  if (out.empty()) report_error("steps: empty");
  return out;
}

problem distributed_call::step_problem(std::size_t step) const {
  return values.p.with_mode(mode_of(step_list().at(step)));
}

properties::case_inputs distributed_call::step_inputs(std::size_t step) const {
  properties::generated_case c = values;
  c.p = step_problem(step);
  return properties::make_inputs(c, step);
}

std::string distributed_call::line() const {
  return "steps=" + steps + " batches=" + shards().batches_text() + " " + values.repro();
}

distributed_call distributed_call::parse(std::string_view line) {
  std::string rest, steps;
  std::vector<std::int64_t> batches;
  bool have_steps = false, have_batches = false;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    const std::string_view word = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (word.starts_with("steps=")) {
      steps = std::string(word.substr(6));
      have_steps = true;
    } else if (word.starts_with("batches=")) {
      batches = sharding::parse_batches(word.substr(8));
      have_batches = true;
    } else if (!word.empty()) {
      rest += (rest.empty() ? "" : " ") + std::string(word);
    }
  }
  if (!have_steps || !have_batches) {
    report_error("a distributed call needs steps= and batches= before its case");
  }
  distributed_call call{properties::parse_case(rest), std::move(batches), std::move(steps)};
  call.step_list();
  call.shards();  // the batches fit the problem
  return call;
}

void write_job(const std::string& path, const std::vector<distributed_call>& calls) {
  std::ofstream out(path);
  for (const distributed_call& c : calls) out << c.line() << '\n';
  if (!out.flush()) report_error("cannot write the job file " + path);
}

std::vector<distributed_call> read_job(const std::string& path) {
  std::ifstream in(path);
  if (!in) report_error("cannot read the job file " + path);
  std::vector<distributed_call> calls;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) calls.push_back(distributed_call::parse(line));
  }
  return calls;
}

}  // namespace bnconform::distributed
