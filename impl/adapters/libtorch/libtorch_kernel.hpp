#pragma once
// libtorch's CPU batch normalization (libtorch 1.13) behind the kernel ABI, at 2
// threads, through each of its two entry points: at::batch_norm (what PyTorch's
// modules call) and at::native_batch_norm.
#include "bnconform/kernel.h"

namespace bnconform::libtorch {

// The descriptions are static and live for the whole program. The first call sets
// ATen's intra-op thread count to 2 (libtorch's default here is 1).
// "libtorch": at::batch_norm's path, at::_batch_norm_impl_index (it returns the
// saved statistics that at::batch_norm drops) and its gradient
// at::_batch_norm_impl_index_backward.
const bnc_kernel* libtorch_kernel();
// "libtorch-native": at::native_batch_norm and at::native_batch_norm_backward.
const bnc_kernel* libtorch_native_kernel();

// For the benchmark only: the same calls without the copy of ATen's results into
// the caller's buffers (ATen 1.13 cannot write into them), so that the peer is
// timed as a PyTorch user runs it. It writes no y, dx or saved statistics: never
// judge its outputs.
const bnc_kernel* libtorch_timing_kernel();

}  // namespace bnconform::libtorch
