#include "adapter_call.hpp"

#include <cstdio>
#include <limits>
#include <new>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace bnconform::adapters {

namespace {

void require(const void* pointer, bool needed, const char* name) {
  if (needed && pointer == nullptr)
    report_error(std::string(name) + " is NULL but the problem needs it");
}

std::string shape_text(const problem& p) {
  std::string s = "(";
  for (int i = 0; i < p.rank(); ++i) s += (i ? ", " : "") + std::to_string(p.shape()[i]);
  return s + ")";
}

// semantics.md: training with one value per channel (and eval without running
// statistics, which uses batch statistics) is rejected before anything moves.
void check_reduction_size(const problem& p) {
  if (p.uses_batch_statistics() && p.reduction_size() == 1) {
    throw call_failure(
        BNC_STATUS_INVALID_PROBLEM,
        "Expected more than 1 value per channel when training, got input size " + shape_text(p));
  }
}

problem checked_problem(const bnc_problem* descriptor) {
  if (descriptor == nullptr) report_error("problem is NULL");
  problem p = from_abi(*descriptor);
  if (p.profile() != profile::pytorch) {
    throw call_failure(BNC_STATUS_UNSUPPORTED, "only the pytorch profile is implemented, not " +
                                                   std::string(name_of(p.profile())));
  }
  return p;
}

void fill(void* p, dtype t, std::int64_t count, double v) {
  write_values(p, t, std::vector<double>(static_cast<std::size_t>(count), v));
}

}  // namespace

problem checked_forward(const bnc_problem* descriptor, const bnc_forward_args* a) {
  problem p = checked_problem(descriptor);
  if (a == nullptr) report_error("args is NULL");
  if (a->struct_size < sizeof(bnc_forward_args))
    report_error("bnc_forward_args.struct_size is too small");
  const bool batch = p.uses_batch_statistics();
  const bool track = p.track_running_stats();
  const bool has_elements = p.element_count() > 0;
  require(a->x, has_elements, "x");
  require(a->y, has_elements, "y");
  require(a->gamma, p.affine(), "gamma");
  require(a->beta, p.affine(), "beta");
  require(a->running_mean, track, "running_mean");
  require(a->running_var, track, "running_var");
  require(a->save_mean, batch, "save_mean");
  require(a->save_invstd, batch, "save_invstd");
  if (p.mode() == mode::training && track) {
    const double f = a->exponential_average_factor;
    if (!(f >= 0.0 && f <= 1.0))
      report_error("exponential_average_factor must be in [0, 1], got " + std::to_string(f));
  }
  check_reduction_size(p);
  return p;
}

problem checked_backward(const bnc_problem* descriptor, const bnc_backward_args* a) {
  problem p = checked_problem(descriptor);
  if (a == nullptr) report_error("args is NULL");
  if (a->struct_size < sizeof(bnc_backward_args))
    report_error("bnc_backward_args.struct_size is too small");
  const bool batch = p.uses_batch_statistics();
  const bool has_elements = p.element_count() > 0;
  require(a->x, has_elements, "x");
  require(a->dy, has_elements, "dy");
  require(a->dx, has_elements, "dx");
  require(a->gamma, p.affine(), "gamma");
  require(a->dgamma, p.affine(), "dgamma");
  require(a->dbeta, p.affine(), "dbeta");
  require(a->save_mean, batch, "save_mean");
  require(a->save_invstd, batch, "save_invstd");
  require(a->running_mean, !batch, "running_mean");
  require(a->running_var, !batch, "running_var");
  check_reduction_size(p);
  return p;
}

bool handled_empty_forward(const problem& p, const bnc_forward_args& a) {
  if (p.element_count() > 0) return false;
  if (p.uses_batch_statistics()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    fill(a.save_mean, p.stats_type(), p.channels(), nan);
    fill(a.save_invstd, p.stats_type(), p.channels(), nan);
  }
  return true;
}

bool handled_empty_backward(const problem& p, const bnc_backward_args& a) {
  if (p.element_count() > 0) return false;
  if (p.affine()) {
    fill(a.dgamma, p.stats_type(), p.channels(), 0.0);
    fill(a.dbeta, p.stats_type(), p.channels(), 0.0);
  }
  return true;
}

void update_running_statistics(const problem& p, double factor, const double* mean,
                               const double* biased_var, void* running_mean, void* running_var) {
  const std::int64_t c = p.channels();
  const dtype st = p.stats_type();
  const double m = static_cast<double>(p.reduction_size());
  std::vector<double> rm = read_values(running_mean, st, c);
  std::vector<double> rv = read_values(running_var, st, c);
  for (std::size_t i = 0; i < rm.size(); ++i) {
    rm[i] = factor * mean[i] + (1.0 - factor) * rm[i];
    rv[i] = factor * (biased_var[i] * m / (m - 1.0)) + (1.0 - factor) * rv[i];
  }
  write_values(running_mean, st, rm);
  write_values(running_var, st, rv);
}

void write_message(char* buffer, std::size_t size, const std::string& text) {
  if (buffer == nullptr || size == 0) return;
  std::snprintf(buffer, size, "%s", text.c_str());
}

bnc_status guarded_status(char* message, std::size_t size, bnc_status (*body)(void*), void* state) {
  write_message(message, size, "");
  try {
    return body(state);
  } catch (const call_failure& e) {
    write_message(message, size, e.what());
    return e.code();
  } catch (const error& e) {
    write_message(message, size, e.what());
    return BNC_STATUS_BAD_ARGUMENT;
  } catch (const std::bad_alloc&) {
    write_message(message, size, "out of memory");
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (const std::exception& e) {
    write_message(message, size, e.what());
    return BNC_STATUS_INTERNAL_ERROR;
  } catch (...) {
    write_message(message, size, "unknown exception");
    return BNC_STATUS_INTERNAL_ERROR;
  }
}

}  // namespace bnconform::adapters
