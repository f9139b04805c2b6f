// The bnconform command: subcommands on top of the libraries. Every error ends
// here as one line on stderr and exit code 2; nothing escapes as a crash.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "certify_command.hpp"
#include "check_command.hpp"
#include "core/error.hpp"
#include "degenerate_command.hpp"
#if defined(BNCONFORM_HAVE_FUZZ)
#include "fuzz_command.hpp"
#endif
#include "golden_command.hpp"
#include "huge_pages.hpp"
#if defined(BNCONFORM_HAVE_MPI)
#include "rank_worker_command.hpp"
#endif
#include "run_command.hpp"

namespace {

constexpr int exit_usage = 2;

int fail(std::string message) {
  // One line, so that scripts can take the message as it is.
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "bnconform: error: " << message << '\n';
  return exit_usage;
}

int run_main(int argc, char** argv) {
  CLI::App app{"bnconform: a conformance suite for batch-normalization kernels", "bnconform"};
  app.set_version_flag("--version", std::string("bnconform ") + BNCONFORM_VERSION);
  app.require_subcommand(1);
  bnconform::cli::run_options run_options;
  CLI::App* run = bnconform::cli::add_run_command(app, run_options);
  bnconform::cli::degenerate_options degenerate_options;
  CLI::App* degenerate = bnconform::cli::add_degenerate_command(app, degenerate_options);
  bnconform::cli::certify_options certify_options;
  certify_options.command_line.assign(argv, argv + argc);
  CLI::App* certify = bnconform::cli::add_certify_command(app, certify_options);
  bnconform::cli::check_options check_options;
  CLI::App* check = bnconform::cli::add_check_command(app, check_options);
  bnconform::cli::golden_options golden_options;
  CLI::App* golden = bnconform::cli::add_golden_command(app, golden_options);
#if defined(BNCONFORM_HAVE_FUZZ)
  bnconform::cli::fuzz_options fuzz_options;
  CLI::App* fuzz = bnconform::cli::add_fuzz_command(app, fuzz_options);
#endif
#if defined(BNCONFORM_HAVE_MPI)
  bnconform::cli::rank_worker_options rank_worker_options;
  CLI::App* rank_worker = bnconform::cli::add_rank_worker_command(app, rank_worker_options);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }
  if (run->parsed()) return bnconform::cli::execute_run(run_options);
  if (degenerate->parsed()) return bnconform::cli::execute_degenerate(degenerate_options);
  if (certify->parsed()) {
    return bnconform::cli::execute_certify(certify_options, BNCONFORM_VERSION);
  }
  if (check->parsed()) return bnconform::cli::execute_check(check_options);
  if (golden->parsed()) return bnconform::cli::execute_golden(*golden, golden_options);
#if defined(BNCONFORM_HAVE_FUZZ)
  if (fuzz->parsed()) return bnconform::cli::execute_fuzz(*fuzz, fuzz_options);
#endif
#if defined(BNCONFORM_HAVE_MPI)
  if (rank_worker->parsed()) return bnconform::cli::execute_rank_worker(rank_worker_options);
#endif
  return fail("no subcommand (see bnconform --help)");
}

}  // namespace

int main(int argc, char** argv) {
  bnconform::cli::reexecute_with_huge_pages(argv);
  try {
    return run_main(argc, argv);
  } catch (const bnconform::error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  } catch (...) {
    return fail("internal error: unknown exception");
  }
}
