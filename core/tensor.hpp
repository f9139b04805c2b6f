#pragma once
// A host tensor: a flat buffer of one dtype. Shape and layout live in the problem;
// a tensor is only the storage a kernel reads or writes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dtype.hpp"

namespace bnconform {

class tensor {
 public:
  tensor() = default;
  // Zero-filled. Throws bnconform::error when count is negative or too large to hold.
  tensor(dtype type, std::int64_t count);
  // Each value is rounded to nearest-even in `type`.
  static tensor from_values(dtype type, std::span<const double> values);

  dtype type() const { return type_; }
  std::int64_t size() const { return size_; }
  std::size_t byte_size() const { return bytes_.size(); }
  void* data() { return bytes_.data(); }
  const void* data() const { return bytes_.data(); }
  std::span<std::byte> bytes() { return bytes_; }
  std::span<const std::byte> bytes() const { return bytes_; }

  // The stored value, exactly (every supported format is a subset of f64).
  double get(std::int64_t index) const;
  // Stores v rounded to nearest-even in the tensor's dtype.
  void set(std::int64_t index, double v);
  std::vector<double> values() const;

  bool bitwise_equal(const tensor& other) const;

 private:
  dtype type_ = dtype::f32;
  std::int64_t size_ = 0;
  std::vector<std::byte> bytes_;
};

}  // namespace bnconform

namespace bnconform {
// Reads or writes `count` values of type t at raw memory p (a kernel's buffer).
std::vector<double> read_values(const void* p, dtype t, std::int64_t count);
void write_values(void* p, dtype t, std::span<const double> values);
}  // namespace bnconform
