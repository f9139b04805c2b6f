#include "rank_worker_command.hpp"

#include "distributed/distributed_call.hpp"
#include "distributed/mpi_world.hpp"
#include "distributed/rank_worker.hpp"
#include "kernel_registry.hpp"

namespace bnconform::cli {

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
  const distributed::mpi_world world(nullptr, nullptr);
  distributed::run_rank(k.get(), world.communicator(), calls, o.directory);
  return 0;
}

}  // namespace bnconform::cli
