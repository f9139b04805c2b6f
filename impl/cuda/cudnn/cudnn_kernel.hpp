#pragma once
// cuDNN 9's legacy batch normalization (cudnnBatchNormalizationForwardTraining,
// ...ForwardInference, ...Backward, CUDNN_BATCHNORM_SPATIAL) behind the ABI: a
// peer to certify and to race. Device memory; the caller keeps the module state
// (cuDNN takes the exponential average factor: running = f * batch + (1 - f) * running).
#include "bnconform/kernel.h"

namespace bnconform::cudnn {

// Static description; calling it needs no device.
const bnc_kernel* cudnn_kernel();

}  // namespace bnconform::cudnn
