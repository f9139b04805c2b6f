#pragma once
// BNC_HOST_DEVICE marks the functions that the CUDA kernels run on the device and
// the ordinary (g++) test run checks on the host: the per-element arithmetic, the
// reductions and merges, the index math and the 16-bit conversions. Under nvcc they
// are __host__ __device__; under a host compiler the macro is empty, so the same
// headers compile (and are tested) without a GPU.
#if defined(__CUDACC__)
#define BNC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define BNC_HOST_DEVICE inline
#endif
