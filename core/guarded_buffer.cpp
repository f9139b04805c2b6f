#include "guarded_buffer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <utility>

#include "error.hpp"
#include "guard_pages.hpp"

namespace bnconform {

namespace {

std::uint64_t read_bits(const std::byte* p, std::size_t width) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, p, width);  // little-endian hosts only (x86-64, aarch64)
  return bits;
}

void fill_sentinel(tensor& t) {
  const std::size_t width = size_of(t.type());
  const std::uint64_t bits = sentinel_bits(t.type());
  auto* p = static_cast<std::byte*>(t.data());
  for (std::int64_t i = 0; i < t.size(); ++i)
    std::memcpy(p + i * static_cast<std::ptrdiff_t>(width), &bits, width);
}

bool in_host_memory(const memory_space& space) { return &space == &host_memory(); }

// A host buffer's mapping: leading canary, contents, trailing canary, in whole pages.
std::size_t host_mapping_bytes(std::size_t bytes) {
  return guard_pages::accessible_size(2 * canary_bytes + bytes);
}

// The trailing canary runs to the guard page in host memory, canary_bytes elsewhere.
std::size_t trailing_canary_bytes(const memory_space& space, std::size_t bytes) {
  if (!in_host_memory(space)) return canary_bytes;
  return host_mapping_bytes(bytes) - canary_bytes - bytes;
}

std::string span_note(std::size_t first, std::size_t count) {
  return std::to_string(count) + " byte(s), first at offset " + std::to_string(first);
}

// The first changed byte and how many changed, or nothing.
void check_canary(std::span<const std::byte> pad, const char* side, const std::string& name,
                  std::vector<guard_finding>& findings) {
  std::size_t changed = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < pad.size(); ++i) {
    if (pad[i] != canary_byte) {
      if (changed == 0) first = i;
      ++changed;
    }
  }
  if (changed == 0) return;
  findings.push_back({guard_kind::out_of_bounds, name,
                      std::string("wrote ") + side + " the buffer: " + span_note(first, changed) +
                          " of the " + std::to_string(pad.size()) + "-byte canary"});
}

}  // namespace

std::string_view name_of(guard_kind k) {
  switch (k) {
    case guard_kind::out_of_bounds: return "out-of-bounds write";
    case guard_kind::unwritten: return "unwritten output";
    case guard_kind::input_modified: return "input modified";
    case guard_kind::fp_environment: return "floating-point environment changed";
    case guard_kind::written_on_failure: return "output written by a failing call";
    case guard_kind::message_unterminated: return "message not NUL-terminated";
  }
  return "unknown guard";
}

std::string describe(const guard_finding& g) {
  if (g.kind == guard_kind::fp_environment) {
    return "guard: " + std::string(name_of(g.kind)) + " (clause fp_environment_kept): " + g.detail;
  }
  if (g.kind == guard_kind::written_on_failure) {
    return "guard: " + std::string(name_of(g.kind)) + " (clause nothing_written_on_failure) in " +
           g.buffer + ": " + g.detail;
  }
  if (g.kind == guard_kind::message_unterminated) {
    return "guard: " + std::string(name_of(g.kind)) + ": " + g.detail;
  }
  return "guard: " + std::string(name_of(g.kind)) + " in " + g.buffer + ": " + g.detail;
}

std::uint64_t sentinel_bits(dtype t) {
  switch (t) {
    case dtype::f64: return 0x7ff5a5a5a5a5a5a5ull;
    case dtype::f32: return 0x7fa5a5a5ull;
    case dtype::f16: return 0x7d5aull;
    case dtype::bf16: return 0x7fa5ull;
  }
  return 0;
}

guarded_buffer::guarded_buffer(memory_space& space, std::string name, role r,
                               const tensor& contents, const storage_view* view)
    : space_(space), name_(std::move(name)), role_(r), original_(contents) {
  if (view != nullptr) {
    if (static_cast<std::int64_t>(view->offsets.size()) != contents.size()) {
      report_error(name_ + ": the view has " + std::to_string(view->offsets.size()) +
                   " offsets for " + std::to_string(contents.size()) + " elements");
    }
    offsets_ = view->offsets;
    original_ = tensor(contents.type(), view->storage_size);
    fill_sentinel(original_);
    if (role_ != role::output) {
      const std::size_t width = size_of(contents.type());
      auto* to = static_cast<std::byte*>(original_.data());
      const auto* from = static_cast<const std::byte*>(contents.data());
      for (std::size_t i = 0; i < offsets_.size(); ++i) {
        std::memcpy(to + static_cast<std::size_t>(offsets_[i]) * width, from + i * width, width);
      }
    }
  }
  if (role_ == role::output) fill_sentinel(original_);
  const std::size_t bytes = original_.byte_size();
  if (in_host_memory(space_)) {
    // Leading canary at the start of the mapping, trailing canary up to its end:
    // guard pages on both sides, nothing unwatched in between.
    base_ = guard_pages::map(host_mapping_bytes(bytes), name_, canary_bytes, canary_bytes + bytes);
    std::memset(base_, static_cast<int>(canary_byte), canary_bytes);
    if (bytes != 0) std::memcpy(base_ + canary_bytes, original_.data(), bytes);
    std::memset(base_ + canary_bytes + bytes, static_cast<int>(canary_byte),
                trailing_canary_bytes(space_, bytes));
    return;
  }
  base_ = static_cast<std::byte*>(space_.allocate(bytes + 2 * canary_bytes));
  // Canary, contents, canary: three copies into the space, no staging image of the
  // whole buffer (a realistic layer's tensors are hundreds of MB).
  std::array<std::byte, canary_bytes> pad;
  pad.fill(canary_byte);
  try {
    space_.upload(base_, pad.data(), canary_bytes);
    space_.upload(base_ + canary_bytes, original_.data(), bytes);
    space_.upload(base_ + canary_bytes + bytes, pad.data(), canary_bytes);
  } catch (...) {
    space_.release(base_);
    throw;
  }
}

guarded_buffer::~guarded_buffer() {
  if (in_host_memory(space_)) {
    guard_pages::unmap(base_, host_mapping_bytes(original_.byte_size()));
  } else {
    space_.release(base_);
  }
}

tensor guarded_buffer::collect(bool must_be_written, std::vector<guard_finding>& findings,
                               bool must_be_untouched) const {
  const std::size_t bytes = original_.byte_size();
  std::vector<std::byte> pad(std::max(canary_bytes, trailing_canary_bytes(space_, bytes)));
  space_.download(pad.data(), base_, canary_bytes);
  check_canary({pad.data(), canary_bytes}, "before", name_, findings);
  const std::size_t trailing = trailing_canary_bytes(space_, bytes);
  space_.download(pad.data(), base_ + canary_bytes + bytes, trailing);
  check_canary({pad.data(), trailing}, "after", name_, findings);

  tensor result(original_.type(), original_.size());
  space_.download(result.data(), base_ + canary_bytes, bytes);
  if (!offsets_.empty()) check_padding(result, findings, must_be_untouched);
  if (role_ == role::input && !result.bitwise_equal(original_)) {
    std::int64_t changed = 0;
    std::int64_t first = -1;
    for (std::int64_t i = 0; i < result.size(); ++i) {
      const std::size_t width = size_of(result.type());
      const auto offset = static_cast<std::size_t>(i) * width;
      if (std::memcmp(result.bytes().data() + offset, original_.bytes().data() + offset, width) !=
          0) {
        if (first < 0) first = i;
        ++changed;
      }
    }
    findings.push_back({guard_kind::input_modified, name_,
                        std::to_string(changed) + " element(s) changed, first at memory index " +
                            std::to_string(first)});
  }
  if (role_ == role::output && must_be_untouched) {
    const std::size_t width = size_of(result.type());
    const std::uint64_t sentinel = sentinel_bits(result.type());
    const auto* p = static_cast<const std::byte*>(result.data());
    std::int64_t written = 0;
    std::int64_t first = -1;
    for (std::int64_t i = 0; i < result.size(); ++i) {
      if (read_bits(p + i * static_cast<std::ptrdiff_t>(width), width) != sentinel) {
        if (first < 0) first = i;
        ++written;
      }
    }
    if (written != 0) {
      findings.push_back({guard_kind::written_on_failure, name_,
                          std::to_string(written) + " of " + std::to_string(result.size()) +
                              " element(s) written, first at memory index " +
                              std::to_string(first)});
    }
  }
  if (role_ == role::output && must_be_written) {
    const std::size_t width = size_of(result.type());
    const std::uint64_t sentinel = sentinel_bits(result.type());
    const auto* p = static_cast<const std::byte*>(result.data());
    const std::int64_t elements =
        offsets_.empty() ? result.size() : static_cast<std::int64_t>(offsets_.size());
    std::int64_t unwritten = 0;
    std::int64_t first = -1;
    for (std::int64_t i = 0; i < elements; ++i) {
      const std::int64_t at = offsets_.empty() ? i : offsets_[static_cast<std::size_t>(i)];
      if (read_bits(p + at * static_cast<std::ptrdiff_t>(width), width) == sentinel) {
        if (first < 0) first = i;
        ++unwritten;
      }
    }
    if (unwritten != 0) {
      findings.push_back({guard_kind::unwritten, name_,
                          std::to_string(unwritten) + " of " + std::to_string(elements) +
                              " element(s) never written, first at memory index " +
                              std::to_string(first)});
    }
  }
  return offsets_.empty() ? result : gather(result);
}

tensor guarded_buffer::gather(const tensor& storage) const {
  tensor dense(storage.type(), static_cast<std::int64_t>(offsets_.size()));
  const std::size_t width = size_of(storage.type());
  const auto* from = static_cast<const std::byte*>(storage.data());
  auto* to = static_cast<std::byte*>(dense.data());
  for (std::size_t i = 0; i < offsets_.size(); ++i) {
    std::memcpy(to + i * width, from + static_cast<std::size_t>(offsets_[i]) * width, width);
  }
  return dense;
}

void guarded_buffer::check_padding(const tensor& storage, std::vector<guard_finding>& findings,
                                   bool must_be_untouched) const {
  // An in-place buffer of a failing call must hold its input still, every element.
  if (role_ == role::in_place && must_be_untouched && !storage.bitwise_equal(original_)) {
    findings.push_back({guard_kind::written_on_failure, name_,
                        "the buffer the call was to overwrite in place changed"});
  }
  std::vector<bool> element(static_cast<std::size_t>(storage.size()), false);
  for (std::int64_t at : offsets_) element[static_cast<std::size_t>(at)] = true;
  const std::size_t width = size_of(storage.type());
  const auto* now = static_cast<const std::byte*>(storage.data());
  const auto* before = static_cast<const std::byte*>(original_.data());
  std::int64_t changed = 0, first = -1;
  for (std::int64_t i = 0; i < storage.size(); ++i) {
    if (element[static_cast<std::size_t>(i)]) continue;
    const std::size_t at = static_cast<std::size_t>(i) * width;
    if (std::memcmp(now + at, before + at, width) != 0) {
      if (first < 0) first = i;
      ++changed;
    }
  }
  if (changed != 0) {
    findings.push_back({guard_kind::out_of_bounds, name_,
                        "wrote " + std::to_string(changed) +
                            " padding element(s) between its elements, first at storage index " +
                            std::to_string(first)});
  }
}

}  // namespace bnconform
