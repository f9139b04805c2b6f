#include "rank_record.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace bnconform::distributed {

namespace {

constexpr std::uint32_t magic = 0x52434e42;  // "BNCR"

class writer {
 public:
  explicit writer(std::ofstream& out) : out_(out) {}
  void u64(std::uint64_t v) { out_.write(reinterpret_cast<const char*>(&v), sizeof v); }
  void text(const std::string& s) {
    u64(s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  void data(const tensor& t) {
    u64(static_cast<std::uint64_t>(t.type()));
    u64(static_cast<std::uint64_t>(t.size()));
    out_.write(reinterpret_cast<const char*>(t.data()),
               static_cast<std::streamsize>(t.byte_size()));
  }

 private:
  std::ofstream& out_;
};

class reader {
 public:
  reader(std::ifstream& in, std::string path) : in_(in), path_(std::move(path)) {}
  std::uint64_t u64() {
    std::uint64_t v = 0;
    in_.read(reinterpret_cast<char*>(&v), sizeof v);
    check();
    return v;
  }
  std::string text() {
    const std::uint64_t n = bounded(u64());
    std::string s(n, '\0');
    in_.read(s.data(), static_cast<std::streamsize>(n));
    check();
    return s;
  }
  tensor data() {
    const std::uint64_t type = u64();
    const std::uint64_t count = bounded(u64());
    if (type > static_cast<std::uint64_t>(dtype::bf16)) damaged();
    tensor t(static_cast<dtype>(type), static_cast<std::int64_t>(count));
    in_.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.byte_size()));
    check();
    return t;
  }

 private:
  void check() {
    if (!in_) damaged();
  }
  [[noreturn]] void damaged() { report_error("the rank record " + path_ + " is damaged"); }
  std::uint64_t bounded(std::uint64_t n) {
    if (n > (std::uint64_t{1} << 40)) damaged();
    return n;
  }
  std::ifstream& in_;
  std::string path_;
};

void write_state(writer& w, const module_state& s) {
  w.data(s.gamma);
  w.data(s.beta);
  w.data(s.running_mean);
  w.data(s.running_var);
  w.u64(static_cast<std::uint64_t>(s.num_batches_tracked));
}

module_state read_state(reader& r) {
  module_state s;
  s.gamma = r.data();
  s.beta = r.data();
  s.running_mean = r.data();
  s.running_var = r.data();
  s.num_batches_tracked = static_cast<std::int64_t>(r.u64());
  return s;
}

}  // namespace

std::string record_path(const std::string& directory, int call, int rank) {
  return directory + "/call-" + std::to_string(call) + ".rank-" + std::to_string(rank) + ".bin";
}

void write_record(const std::string& path, const rank_record& r) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    writer w(out);
    w.u64(magic);
    w.u64(r.steps.size());
    for (const auto& runs : r.steps) {
      for (const step_record& s : runs) {
        w.u64(static_cast<std::uint64_t>(s.status.code));
        w.text(s.status.message);
        w.data(s.data);
        w.data(s.stats_a);
        w.data(s.stats_b);
        write_state(w, s.state_after);
        w.u64(s.guards.size());
        for (const guard_finding& g : s.guards) {
          w.u64(static_cast<std::uint64_t>(g.kind));
          w.text(g.buffer);
          w.text(g.detail);
        }
        w.u64(static_cast<std::uint64_t>(s.collectives));
      }
    }
    if (!out.flush()) report_error("cannot write the rank record " + partial);
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) report_error("cannot write the rank record " + path + ": " + ec.message());
}

std::optional<rank_record> read_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  reader r(in, path);
  if (r.u64() != magic) report_error("the rank record " + path + " is damaged");
  rank_record out;
  const std::uint64_t steps = r.u64();
  if (steps > 1024) report_error("the rank record " + path + " is damaged");
  out.steps.resize(steps);
  for (auto& runs : out.steps) {
    for (step_record& s : runs) {
      s.status.code = static_cast<bnc_status>(r.u64());
      s.status.message = r.text();
      s.data = r.data();
      s.stats_a = r.data();
      s.stats_b = r.data();
      s.state_after = read_state(r);
      const std::uint64_t guards = r.u64();
      if (guards > 4096) report_error("the rank record " + path + " is damaged");
      for (std::uint64_t g = 0; g < guards; ++g) {
        guard_finding f{};
        f.kind = static_cast<guard_kind>(r.u64());
        f.buffer = r.text();
        f.detail = r.text();
        s.guards.push_back(std::move(f));
      }
      s.collectives = static_cast<std::int64_t>(r.u64());
    }
  }
  return out;
}

}  // namespace bnconform::distributed
