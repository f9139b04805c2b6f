#pragma once
// `bnconform rank-worker`: one rank of a distributed job, started by mpiexec for
// `certify --ranks` (distributed/launcher.hpp); not a command for people, and
// left out of --help.
#include <CLI/CLI.hpp>
#include <string>

namespace bnconform::cli {

struct rank_worker_options {
  std::string kernel_name, job_path, directory;
};

CLI::App* add_rank_worker_command(CLI::App& app, rank_worker_options& o);
[[noreturn]] int execute_rank_worker(const rank_worker_options& o);
// Ends a process that ran MPI: flushes the standard streams and exits with `code`.
[[noreturn]] void end_mpi_process(int code);

}  // namespace bnconform::cli
