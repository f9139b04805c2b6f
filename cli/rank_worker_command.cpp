#include "rank_worker_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "distributed/distributed_call.hpp"
#include "distributed/mpi_world.hpp"
#include "distributed/rank_worker.hpp"
#include "kernel_registry.hpp"

namespace bnconform::cli {

void end_mpi_process(int code) {
  // After MPI_Finalize, without the exit handlers: LeakSanitizer's would report
  // what Open MPI keeps to the end (its components are unloaded with their
  // allocations still held), failing every rank of an ASan build. The harness code
  // a rank runs is leak-checked in one process by tests/distributed/distributed_test.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

CLI::App* add_rank_worker_command(CLI::App& app, rank_worker_options& o) {
  CLI::App* c = app.add_subcommand("rank-worker", "One rank of certify --ranks (under mpiexec)");
  c->group("");  // hidden
  c->add_option("--kernel", o.kernel_name)->required();
  c->add_option("--job", o.job_path)->required();
  c->add_option("--out", o.directory)->required();
  return c;
}

int execute_rank_worker(const rank_worker_options& o) {
  const std::vector<distributed::distributed_call> calls = distributed::read_job(o.job_path);
  const loaded_kernel k = load_kernel(o.kernel_name, 0);
  {
    const distributed::mpi_world world(nullptr, nullptr);
    distributed::run_rank(k.get(), world.communicator(), calls, o.directory);
  }
  end_mpi_process(0);
}

}  // namespace bnconform::cli
