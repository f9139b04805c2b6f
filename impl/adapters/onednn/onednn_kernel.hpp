#pragma once
// oneDNN's batch normalization (the C++ API of oneDNN 2.6) behind the kernel ABI.
// oneDNN keeps no running statistics: the adapter computes them from the batch
// mean and variance oneDNN returns (see ../README.md).
#include "bnconform/kernel.h"

namespace bnconform::onednn {

// Each description is built once (it probes which dtypes this machine's oneDNN
// implements) and lives for the whole program.
// "onednn": the primitive computes in the caller's plain layout (strides).
const bnc_kernel* onednn_kernel();
// "onednn-blocked": in oneDNN's channel-blocked format (nCw16c, nChw16c, nCdhw16c;
// nc at rank 2), the caller's tensors reordered into it and back.
const bnc_kernel* onednn_blocked_kernel();

}  // namespace bnconform::onednn
