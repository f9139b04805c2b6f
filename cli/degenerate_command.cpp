#include "degenerate_command.hpp"

#include <cstdio>
#include <iostream>

#include "battery/degenerate_catalog.hpp"
#include "core/error.hpp"
#include "kernel_registry.hpp"

namespace bnconform::cli {

CLI::App* add_degenerate_command(CLI::App& app, degenerate_options& o) {
  CLI::App* cmd = app.add_subcommand("degenerate",
                                     "Run the degenerate catalog of semantics.md against a kernel");
  cmd->add_option("names", o.names, "Case names (default: every case of the default tier)");
  cmd->add_option("--kernel", o.kernel_name, kernel_option_help());
  cmd->add_option("--level", o.level, "strict (default) or standard");
  cmd->add_flag("--large", o.large, "Include the large tier (minutes, gigabytes)");
  cmd->add_flag("--list", o.list, "List the cases and their rules, run nothing");
  return cmd;
}

int execute_degenerate(const degenerate_options& o) {
  const auto lv = check::parse_level(o.level);
  if (!lv) report_error("--level: expected strict or standard, got '" + o.level + "'");
  const auto catalog = battery::degenerate_catalog();
  for (const std::string& name : o.names) {
    bool known = false;
    for (const auto& dc : catalog) known = known || dc.name == name;
    if (!known) report_error("no degenerate case named '" + name + "' (see --list)");
  }
  if (o.list) {
    for (const auto& dc : catalog) {
      std::printf("%-36s %-15s %s%s\n", std::string(dc.name).c_str(),
                  std::string(battery::name_of(dc.rule)).c_str(), std::string(dc.what).c_str(),
                  dc.large ? " [large tier]" : "");
    }
    return 0;
  }
  const loaded_kernel k = load_kernel(o.kernel_name, 0);
  int failures = 0, run = 0;
  for (const auto& dc : catalog) {
    const bool named = !o.names.empty();
    bool wanted = !named && (!dc.large || o.large);
    for (const std::string& name : o.names) wanted = wanted || dc.name == name;
    if (!wanted) continue;
    std::fprintf(stderr, "[%d] %s...\r", ++run, std::string(dc.name).c_str());
    const auto r = battery::run_degenerate(k.get(), dc, *lv);
    std::printf("%-36s %-12s %s\n", std::string(dc.name).c_str(),
                std::string(check::name_of(r.result)).c_str(), r.reason.c_str());
    if (r.result == check::verdict::fail || r.result == check::verdict::mistrusted) {
      ++failures;
      if (!r.calls.empty()) std::cout << r.calls.back().describe() << "\n";
    }
  }
  std::fprintf(stderr, "\n");
  std::printf("%d case(s) run against %s at %s: %d failed\n", run, k.get().name().c_str(),
              o.level.c_str(), failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace bnconform::cli
