#include "tensor.hpp"

#include <cstring>
#include <string>

#include "error.hpp"
#include "float_bits.hpp"
#include "rounding.hpp"

namespace bnconform {

namespace {
// 2^40 bytes: far beyond any machine this runs on, and a clear error instead of
// std::bad_alloc or an overflowing multiplication for a mistyped shape.
constexpr std::int64_t max_bytes = std::int64_t{1} << 40;
}  // namespace

tensor::tensor(dtype type, std::int64_t count) : type_(type), size_(count) {
  if (count < 0) report_error("tensor size must be >= 0, got " + std::to_string(count));
  if (count > max_bytes / static_cast<std::int64_t>(size_of(type))) {
    report_error("tensor of " + std::to_string(count) + " " + std::string(name_of(type)) +
                 " elements is too large to allocate");
  }
  bytes_.resize(static_cast<std::size_t>(count) * size_of(type));
}

tensor tensor::from_values(dtype type, std::span<const double> values) {
  tensor t(type, static_cast<std::int64_t>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) t.set(static_cast<std::int64_t>(i), values[i]);
  return t;
}

double tensor::get(std::int64_t index) const {
  const std::byte* p = bytes_.data() + static_cast<std::size_t>(index) * size_of(type_);
  switch (type_) {
    case dtype::f64: {
      double v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case dtype::f32: {
      float v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case dtype::f16:
    case dtype::bf16: {
      std::uint16_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return type_ == dtype::f16 ? decode_f16(bits) : decode_bf16(bits);
    }
  }
  return 0;
}

void tensor::set(std::int64_t index, double v) {
  std::byte* p = bytes_.data() + static_cast<std::size_t>(index) * size_of(type_);
  const double rounded = round_to(v, type_);
  switch (type_) {
    case dtype::f64: std::memcpy(p, &rounded, sizeof rounded); return;
    case dtype::f32: {
      const auto f = static_cast<float>(rounded);  // exact: already a binary32 value
      std::memcpy(p, &f, sizeof f);
      return;
    }
    case dtype::f16:
    case dtype::bf16: {
      const std::uint16_t bits = type_ == dtype::f16 ? encode_f16(rounded) : encode_bf16(rounded);
      std::memcpy(p, &bits, sizeof bits);
      return;
    }
  }
}

std::vector<double> tensor::values() const {
  std::vector<double> out(static_cast<std::size_t>(size_));
  for (std::int64_t i = 0; i < size_; ++i) out[static_cast<std::size_t>(i)] = get(i);
  return out;
}

bool tensor::bitwise_equal(const tensor& other) const {
  return type_ == other.type_ && bytes_ == other.bytes_;
}

}  // namespace bnconform

namespace bnconform {

std::vector<double> read_values(const void* p, dtype t, std::int64_t count) {
  tensor view(t, count);
  std::memcpy(view.data(), p, view.byte_size());
  return view.values();
}

void write_values(void* p, dtype t, std::span<const double> values) {
  const tensor view = tensor::from_values(t, values);
  std::memcpy(p, view.data(), view.byte_size());
}

}  // namespace bnconform
