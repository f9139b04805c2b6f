#pragma once
// The harness's communicator over MPI: this process's rank of MPI_COMM_WORLD,
// bound to the ABI's bnc_communicator (docs/abi.md, "Distributed calls"). Integer
// sums are MPI_Allreduce; floating sums gather every rank's values and add them in
// rank order, so every rank gets the same bits (MPI_Allreduce promises no order).
// Errors return (MPI_ERRORS_RETURN) as BNC_STATUS_INTERNAL_ERROR.
#include <string>
#include <vector>

#include "bnconform/kernel.h"

namespace bnconform::distributed {

class mpi_world {
 public:
  // MPI_Init; MPI_Finalize when destroyed. One per process.
  mpi_world(int* argc, char*** argv);
  ~mpi_world();
  mpi_world(const mpi_world&) = delete;
  mpi_world& operator=(const mpi_world&) = delete;

  int rank() const { return communicator_.rank; }
  int size() const { return communicator_.size; }
  const bnc_communicator& communicator() const { return communicator_; }
  // Every rank's text, in rank order, on rank 0 (empty elsewhere). Throws
  // bnconform::error when the gather fails.
  std::vector<std::string> gather_to_root(const std::string& mine) const;
  void barrier() const;
  // Whether this process was started by an MPI launcher (Open MPI's or PMIx's
  // environment): `bnconform fuzz` under mpiexec.
  static bool launched();

 private:
  bnc_communicator communicator_{};
};

}  // namespace bnconform::distributed
