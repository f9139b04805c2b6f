#pragma once
// oneDNN's batch normalization (the C++ API of oneDNN 2.6) behind the kernel ABI.
// oneDNN keeps no running statistics: the adapter computes them from the batch
// mean and variance oneDNN returns (see ../README.md).
#include "bnconform/kernel.h"

namespace bnconform::onednn {

// The description is built once (it probes which dtypes this machine's oneDNN
// implements) and lives for the whole program.
const bnc_kernel* onednn_kernel();

}  // namespace bnconform::onednn
