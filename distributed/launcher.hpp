#pragma once
// Starts the ranks of a distributed job through mpiexec, one process per rank
// (`bnconform rank-worker`), and waits for them within a time limit: a rank that
// dies ends the job (mpiexec's own rule), a job that outlives the limit is ended
// (SIGTERM to mpiexec, then SIGKILL to its process group), and either way the
// caller learns what happened and where each rank was.
#include <functional>
#include <string>
#include <vector>

namespace bnconform::distributed {

struct launch_options {
  std::string mpiexec;          // its path (find_mpiexec)
  std::string executable;       // the bnconform command the ranks run
  std::string kernel_argument;  // --kernel, as the user gave it
  int ranks = 1;
  std::string job_path;   // the job file (write_job)
  std::string directory;  // where the ranks write records and progress
  double timeout_seconds = 60;
  std::function<void()> heartbeat;  // called about every 100 ms while waiting
};

struct launch_result {
  bool finished = false;  // every rank exited with status 0 within the limit
  // Why not: "rank 1 exited on signal 6 (Aborted)", "timed out after 5.0 s", ...
  std::string failure;
  // Each rank's last progress line ("rank 1: in call 2 at collective 0"), when the
  // job did not finish.
  std::vector<std::string> where;
  std::string output_tail;  // the last lines mpiexec and the ranks printed
};

launch_result launch_ranks(const launch_options& o);

// $BNCONFORM_MPIEXEC when set, else mpiexec on PATH; empty when there is none.
std::string find_mpiexec();
// The mpiexec command line of a job (also what a repro prints).
std::vector<std::string> mpiexec_command(const launch_options& o);

}  // namespace bnconform::distributed
