/*
 * bnconform tensor views (ABI 1.1): copying a strided data tensor to and from the
 * dense layout, and running a kernel written for dense tensors on any view.
 *
 * A kernel that computes on dense tensors declares BNC_FEATURE_ANY_STRIDES and the
 * in-place features, and wraps its entry points:
 *
 *     static bnc_status forward(void* context, const bnc_problem* p,
 *                               const bnc_forward_args* a, char* message, size_t size) {
 *       return bnc_forward_densely(dense_forward, context, keeps_module_state, p, a,
 *                                  message, size);
 *     }
 *
 * bnc_forward_densely runs the ABI's malformed-call clauses first (validate.h), so a
 * bad view is refused before anything is read. It calls the dense entry point
 * directly when every tensor is already dense in problem->layout and not in place;
 * otherwise it copies x (and dy) into dense buffers, calls the dense entry point on
 * them with NULL strides, and on success copies y (dx) out into the caller's view.
 * In place is then safe: every x is read before any y is written. The copies cost one
 * extra read and write of each data tensor.
 *
 * Header-only C99 that also compiles as C++; it allocates with malloc and returns
 * BNC_STATUS_INTERNAL_ERROR ("out of memory") when that fails.
 */
#ifndef BNCONFORM_VIEWS_H
#define BNCONFORM_VIEWS_H

#include <stdlib.h>

#include "validate.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline size_t bnc_views_element_size_(const bnc_problem* p) {
  switch (bnc_validate_raw_(&p->data_dtype)) {
    case BNC_DTYPE_F64: return 8;
    case BNC_DTYPE_F32: return 4;
    default: return 2;
  }
}

/* Copies every element between a view (`strides`, NULL: dense in the layout) and a
 * tensor dense in problem->layout: to the dense one when `to_dense`, else back. The
 * problem and strides must have passed the clauses of validate.h. Returns 0 when the
 * index buffer cannot be allocated. One thread; a row of the innermost dimension at a
 * time (bench/VIEWS_SPEED_RESULTS.md has its cost). */
static inline int bnc_view_copy(const bnc_problem* p, const int64_t* strides, void* view,
                                void* dense, int to_dense) {
  const size_t width = bnc_views_element_size_(p);
  const int layout = bnc_validate_raw_(&p->layout);
  const int32_t rank = p->rank;
  int64_t elements = 1;
  for (int32_t d = 0; d < rank; ++d) elements *= p->shape[d];
  if (elements == 0) return 1;
  int64_t* index = (int64_t*)calloc((size_t)rank * 3, sizeof(int64_t));
  if (index == NULL) return 0;
  int64_t* dense_strides = index + rank;
  int64_t* view_strides = index + (ptrdiff_t)2 * rank;
  for (int32_t d = 0; d < rank; ++d) {
    dense_strides[d] = bnc_dense_stride(p, layout, d);
    view_strides[d] = strides != NULL ? strides[d] : dense_strides[d];
  }
  /* Row by row along the innermost logical dimension: one memcpy where both sides
   * are contiguous there, else a loop of fixed-width element copies. */
  const int32_t last = rank - 1;
  const int64_t inner = p->shape[last];
  const int64_t rows = elements / inner;
  unsigned char* v = (unsigned char*)view;
  unsigned char* t = (unsigned char*)dense;
  int64_t at_dense = 0, at_view = 0;
  for (int64_t row = 0; row < rows; ++row) {
    unsigned char* from = to_dense ? v + (size_t)at_view * width : t + (size_t)at_dense * width;
    unsigned char* into = to_dense ? t + (size_t)at_dense * width : v + (size_t)at_view * width;
    const size_t from_step = (size_t)(to_dense ? view_strides[last] : dense_strides[last]) * width;
    const size_t into_step = (size_t)(to_dense ? dense_strides[last] : view_strides[last]) * width;
    if (from_step == width && into_step == width) {
      memcpy(into, from, (size_t)inner * width);
    } else if (width == 8) {
      for (size_t i = 0; i < (size_t)inner; ++i)
        memcpy(into + i * into_step, from + i * from_step, 8);
    } else if (width == 4) {
      for (size_t i = 0; i < (size_t)inner; ++i)
        memcpy(into + i * into_step, from + i * from_step, 4);
    } else {
      for (size_t i = 0; i < (size_t)inner; ++i)
        memcpy(into + i * into_step, from + i * from_step, 2);
    }
    /* The next row: the logical index over (N, C, S1, ..., Sk-1), row major. */
    for (int32_t d = last; d-- > 0;) {
      at_dense += dense_strides[d];
      at_view += view_strides[d];
      if (++index[d] < p->shape[d]) break;
      at_dense -= dense_strides[d] * p->shape[d];
      at_view -= view_strides[d] * p->shape[d];
      index[d] = 0;
    }
  }
  free(index);
  return 1;
}

/* Whether a call needs no copy: every data tensor dense in problem->layout, and no
 * output over an input. */
static inline int bnc_views_dense_(const bnc_problem* p, const int64_t* const* strides, int count) {
  const int layout = bnc_validate_raw_(&p->layout);
  for (int i = 0; i < count; ++i) {
    if (!bnc_view_is_dense(p, strides[i], layout)) return 0;
  }
  return 1;
}

static inline bnc_status bnc_views_out_of_memory_(char* message, size_t message_size) {
  if (message != NULL && message_size > 0) snprintf(message, message_size, "out of memory");
  return BNC_STATUS_INTERNAL_ERROR;
}

/* keeps_module_state: the kernel's capability of that name. */
static inline bnc_status bnc_forward_densely(bnc_forward_fn dense_forward, void* context,
                                             int32_t keeps_module_state, const bnc_problem* problem,
                                             const bnc_forward_args* args, char* message,
                                             size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_forward_clauses(&count);
  const bnc_call call = bnc_forward_call(problem, args, keeps_module_state);
  const bnc_status valid =
      bnc_validate_run(table, count, &call, BNC_STATUS_BAD_ARGUMENT, message, message_size);
  if (valid != BNC_STATUS_OK) return valid;
  bnc_forward_args dense = *args;
  dense.x_strides = NULL;
  dense.y_strides = NULL;
  const int64_t* strides[2] = {args->x_strides, args->y_strides};
  int64_t elements = 0, m = 0;
  bnc_validate_counts_(&call, &elements, &m);
  if (elements == 0 || (args->y != args->x && bnc_views_dense_(problem, strides, 2))) {
    return dense_forward(context, problem, &dense, message, message_size);
  }
  const size_t bytes = (size_t)elements * bnc_views_element_size_(problem);
  void* x = malloc(bytes);
  void* y = malloc(bytes);
  if (x == NULL || y == NULL || !bnc_view_copy(problem, args->x_strides, (void*)args->x, x, 1)) {
    free(x);
    free(y);
    return bnc_views_out_of_memory_(message, message_size);
  }
  dense.x = x;
  dense.y = y;
  bnc_status s = dense_forward(context, problem, &dense, message, message_size);
  if (s == BNC_STATUS_OK && !bnc_view_copy(problem, args->y_strides, args->y, y, 0)) {
    s = bnc_views_out_of_memory_(message, message_size);
  }
  free(x);
  free(y);
  return s;
}

static inline bnc_status bnc_backward_densely(bnc_backward_fn dense_backward, void* context,
                                              const bnc_problem* problem,
                                              const bnc_backward_args* args, char* message,
                                              size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_backward_clauses(&count);
  const bnc_call call = bnc_backward_call(problem, args);
  const bnc_status valid =
      bnc_validate_run(table, count, &call, BNC_STATUS_BAD_ARGUMENT, message, message_size);
  if (valid != BNC_STATUS_OK) return valid;
  bnc_backward_args dense = *args;
  dense.x_strides = NULL;
  dense.dy_strides = NULL;
  dense.dx_strides = NULL;
  const int64_t* strides[3] = {args->x_strides, args->dy_strides, args->dx_strides};
  int64_t elements = 0, m = 0;
  bnc_validate_counts_(&call, &elements, &m);
  if (elements == 0 || (args->dx != args->dy && bnc_views_dense_(problem, strides, 3))) {
    return dense_backward(context, problem, &dense, message, message_size);
  }
  const size_t bytes = (size_t)elements * bnc_views_element_size_(problem);
  void* x = malloc(bytes);
  void* dy = malloc(bytes);
  void* dx = malloc(bytes);
  bnc_status s = BNC_STATUS_OK;
  if (x == NULL || dy == NULL || dx == NULL ||
      !bnc_view_copy(problem, args->x_strides, (void*)args->x, x, 1) ||
      !bnc_view_copy(problem, args->dy_strides, (void*)args->dy, dy, 1)) {
    s = bnc_views_out_of_memory_(message, message_size);
  } else {
    dense.x = x;
    dense.dy = dy;
    dense.dx = dx;
    s = dense_backward(context, problem, &dense, message, message_size);
    if (s == BNC_STATUS_OK && !bnc_view_copy(problem, args->dx_strides, args->dx, dx, 0)) {
      s = bnc_views_out_of_memory_(message, message_size);
    }
  }
  free(x);
  free(dy);
  free(dx);
  return s;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCONFORM_VIEWS_H */
