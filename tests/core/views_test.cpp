// Tests of tensor views (docs/abi.md, "Tensor views"): the problem string's views and
// their checks, the harness's strided and in-place buffers and what it passes to 1.0
// and 1.1 kernels, and bnconform/views.h's copies around a dense kernel.
#include "bnconform/views.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/kernel.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    (void)problem::parse(text);
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

TEST(ProblemViews, RoundTripThroughTheProblemString) {
  const std::string text =
      "shape=3x3x4x5,layout=channels_first,dtype=f32,mode=train,eps=1e-05,momentum=0.1,"
      "affine=true,track=true,profile=pytorch,x_strides=105x35x8x1,y_strides=110x36x8x1,"
      "dy_strides=4x60x1x12";
  const problem p = problem::parse(text);
  EXPECT_EQ(p.to_string(), text);
  EXPECT_TRUE(p.has_views());
  EXPECT_EQ(problem::parse("shape=2x3,in_place=true").to_string().find("in_place=true") !=
                std::string::npos,
            true);
  EXPECT_FALSE(p == p.without_views());
  EXPECT_FALSE(p.with_shape({3, 3, 4, 6}).has_views());
}

TEST(ProblemViews, BadViewsAreOneLineErrorsNamingTheKey) {
  EXPECT_THAT(error_of("shape=2x3x4,x_strides=12x4"), HasSubstr("x_strides: expected 3 strides"));
  EXPECT_THAT(error_of("shape=2x3x4,y_strides=12x-4x1"),
              HasSubstr("y_strides: stride 1 is negative"));
  EXPECT_THAT(error_of("shape=2x3x4,dy_strides=12x1x1"),
              HasSubstr("dy_strides: dimension 2 (stride 1) overlaps dimension 1"));
  EXPECT_THAT(error_of("shape=2x3x4,dx_strides=12x4x0"),
              HasSubstr("dx_strides: dimension 2 has stride 0"));
  EXPECT_THAT(error_of("shape=2x3x4,x_strides=4611686018427387904x4x1"),
              HasSubstr("x_strides: the last element's offset"));
  EXPECT_THAT(error_of("shape=2x3x4,in_place=true,y_strides=12x4x1"),
              HasSubstr("in_place: y and dx are written over x and dy"));
  EXPECT_THAT(error_of("shape=2x3x4,x_strides=12xfourx1"), HasSubstr("x_strides: '12xfourx1'"));
  // Any stride on an extent-1 dimension, padding, any order: accepted.
  EXPECT_EQ(error_of("shape=2x3x1x4,x_strides=20x5x999x1"), "");
  EXPECT_EQ(error_of("shape=2x3x4,x_strides=1x2x6"), "");
}

TEST(ProblemViews, StorageOffsetsPlaceEachDenseElement) {
  const problem p = problem::parse("shape=2x3x4,layout=channels_last,x_strides=20x6x1");
  // Dense channels-last memory index (n * 4 + s) * 3 + c lies at n*20 + c*6 + s.
  const std::vector<std::int64_t> offsets = p.storage_offsets(problem::tensor_role::x);
  ASSERT_EQ(offsets.size(), 24u);
  for (std::int64_t n = 0; n < 2; ++n) {
    for (std::int64_t c = 0; c < 3; ++c) {
      for (std::int64_t s = 0; s < 4; ++s) {
        EXPECT_EQ(offsets[static_cast<std::size_t>(p.offset(n, c, s))], n * 20 + c * 6 + s);
      }
    }
  }
  EXPECT_EQ(p.storage_size(problem::tensor_role::x), 20 + 12 + 3 + 1);
  // y takes its own dense view; in place it takes x's.
  EXPECT_EQ(p.storage_size(problem::tensor_role::y), 24);
}

// What a fake kernel saw of its x and y, and what it does: copies x to y through the
// strides it is given (the identity when y is x), or misbehaves as told.
struct seen_call {
  const std::int64_t* x_strides = nullptr;
  const std::int64_t* y_strides = nullptr;
  bool same_buffer = false;
  bool write_padding = false;
  bool read_padding_as_data = false;
};
seen_call seen;

bnc_status copying_forward(void*, const bnc_problem* p, const bnc_forward_args* a, char* message,
                           std::size_t size) {
  seen.x_strides = a->x_strides;
  seen.y_strides = a->y_strides;
  seen.same_buffer = a->x == a->y;
  if (message != nullptr && size > 0) message[0] = '\0';
  std::vector<std::int64_t> dense(static_cast<std::size_t>(p->rank));
  for (std::int32_t d = 0; d < p->rank; ++d) {
    dense[static_cast<std::size_t>(d)] = bnc_dense_stride(p, p->layout, d);
  }
  const std::int64_t* xs = a->x_strides != nullptr ? a->x_strides : dense.data();
  const std::int64_t* ys = a->y_strides != nullptr ? a->y_strides : dense.data();
  const auto* x = static_cast<const float*>(a->x);
  auto* y = static_cast<float*>(a->y);
  std::vector<std::int64_t> index(static_cast<std::size_t>(p->rank), 0);
  std::int64_t count = 1;
  for (std::int32_t d = 0; d < p->rank; ++d) count *= p->shape[d];
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t at_x = 0, at_y = 0;
    for (std::int32_t d = 0; d < p->rank; ++d) {
      at_x += index[static_cast<std::size_t>(d)] * xs[d];
      at_y += index[static_cast<std::size_t>(d)] * ys[d];
    }
    y[at_y] = seen.read_padding_as_data ? x[at_x + 1] : x[at_x];
    for (std::int32_t d = p->rank; d-- > 0;) {
      if (++index[static_cast<std::size_t>(d)] < p->shape[d]) break;
      index[static_cast<std::size_t>(d)] = 0;
    }
  }
  if (seen.write_padding) y[12] = 0.0f;  // y_strides 13x4x1: index 12 is padding
  for (std::int64_t c = 0; c < p->shape[1]; ++c) {
    if (a->save_mean) static_cast<float*>(a->save_mean)[c] = 0;
    if (a->save_invstd) static_cast<float*>(a->save_invstd)[c] = 1;
  }
  return BNC_STATUS_OK;
}

bnc_status no_backward(void*, const bnc_problem*, const bnc_backward_args*, char*, std::size_t) {
  return BNC_STATUS_UNSUPPORTED;
}

bnc_kernel copying_kernel(std::uint32_t features) {
  bnc_kernel k{};
  k.abi_version = BNC_ABI_VERSION;
  k.struct_size = sizeof(bnc_kernel);
  k.name = "copying";
  k.version = "test";
  k.capabilities = {BNC_OP_FORWARD_TRAINING,
                    BNC_BIT(BNC_DTYPE_F32),
                    BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
                    BNC_BIT(BNC_PROFILE_PYTORCH),
                    2,
                    8,
                    BNC_MEMORY_HOST,
                    0};
  k.forward = copying_forward;
  k.backward = no_backward;
  k.features = features;
  return k;
}

tensor counting(const problem& p) {
  tensor t(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>(i + 1));
  return t;
}

constexpr std::uint32_t every_view =
    BNC_FEATURE_ANY_STRIDES | BNC_FEATURE_IN_PLACE_FORWARD | BNC_FEATURE_IN_PLACE_BACKWARD;

TEST(HarnessViews, APaddedViewReachesTheKernelAndComesBackDense) {
  seen = {};
  const bnc_kernel description = copying_kernel(every_view);
  const kernel k(&description);
  const problem p = problem::parse("shape=2x3x4,x_strides=20x6x1,y_strides=13x4x1");
  ASSERT_EQ(k.unsupported_reason(p, false), "");
  module_state state = module_state::initial(p);
  const tensor x = counting(p);
  const forward_outputs out = k.forward(p, x, state);
  EXPECT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_TRUE(out.guards.empty()) << describe(out.guards.front());
  EXPECT_TRUE(out.y.bitwise_equal(x));
  ASSERT_NE(seen.x_strides, nullptr);
  EXPECT_FALSE(seen.same_buffer);
}

TEST(HarnessViews, WritingPaddingOrReadingItAsDataIsCaught) {
  const bnc_kernel description = copying_kernel(every_view);
  const kernel k(&description);
  const problem p = problem::parse("shape=2x3x4,x_strides=20x6x1,y_strides=13x4x1");
  const tensor x = counting(p);
  seen = {};
  seen.write_padding = true;
  module_state state = module_state::initial(p);
  const forward_outputs written = k.forward(p, x, state);
  ASSERT_FALSE(written.guards.empty());
  EXPECT_THAT(describe(written.guards.front()),
              HasSubstr("out-of-bounds write in y: wrote 1 padding element(s) between its "
                        "elements, first at storage index 12"));
  seen = {};
  seen.read_padding_as_data = true;
  const forward_outputs read = k.forward(p, x, state);
  // x's padding holds the NaN sentinel: a kernel that reads it gets NaN.
  bool nan_found = false;
  for (const double v : read.y.values()) nan_found = nan_found || std::isnan(v);
  EXPECT_TRUE(nan_found);
}

TEST(HarnessViews, InPlaceGivesTheKernelOneBuffer) {
  seen = {};
  const bnc_kernel description = copying_kernel(every_view);
  const kernel k(&description);
  const problem p = problem::parse("shape=2x3x4,in_place=true,x_strides=20x6x1");
  module_state state = module_state::initial(p);
  const tensor x = counting(p);
  const forward_outputs out = k.forward(p, x, state);
  EXPECT_TRUE(out.status.ok());
  EXPECT_TRUE(out.guards.empty()) << describe(out.guards.front());
  EXPECT_TRUE(seen.same_buffer);
  EXPECT_TRUE(out.y.bitwise_equal(x));
}

TEST(HarnessViews, WhatAKernelDoesNotDeclareIsNotSent) {
  const bnc_kernel dense_only = copying_kernel(0);
  const kernel k(&dense_only);
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3x4,x_strides=20x6x1"), false),
              HasSubstr("BNC_FEATURE_ANY_STRIDES"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3x4,in_place=true"), false),
              HasSubstr("BNC_FEATURE_IN_PLACE_FORWARD"));
  // Dense in the other declared layout: MIXED_LAYOUTS is enough, ANY_STRIDES is not needed.
  const problem other = problem::parse("shape=2x3x4,y_strides=12x1x3");
  EXPECT_NE(k.unsupported_reason(other, false), "");
  const bnc_kernel mixed = copying_kernel(BNC_FEATURE_MIXED_LAYOUTS);
  EXPECT_EQ(kernel(&mixed).unsupported_reason(other, false), "");
  // Strides that differ from the dense ones only on extent-1 dimensions are dense.
  EXPECT_EQ(k.unsupported_reason(problem::parse("shape=2x3x1x4,x_strides=12x4x77x1"), false), "");
}

// A description built for ABI 1.0 ends before `features`: it loads, its features
// read as 0 whatever lies past its end, and it is passed NULL strides.
TEST(HarnessViews, A10KernelLoadsAndGetsNoStrides) {
  struct {
    bnc_kernel k;
  } storage{copying_kernel(every_view)};
  storage.k.abi_version = 1u << 16;
  storage.k.struct_size = static_cast<std::uint32_t>(offsetof(bnc_kernel, features));
  const kernel k(&storage.k);
  EXPECT_EQ(k.features(), 0u);
  EXPECT_EQ(k.abi_minor(), 0u);
  const problem p = problem::parse("shape=2x3x1x4,x_strides=12x4x77x1");
  ASSERT_EQ(k.unsupported_reason(p, false), "");
  seen = {};
  module_state state = module_state::initial(p);
  const forward_outputs out = k.forward(p, counting(p), state);
  EXPECT_TRUE(out.status.ok());
  EXPECT_EQ(seen.x_strides, nullptr);
  EXPECT_TRUE(out.y.bitwise_equal(counting(p)));
  // A 1.1 description must hold `features`.
  bnc_kernel short_one = copying_kernel(0);
  short_one.struct_size = static_cast<std::uint32_t>(offsetof(bnc_kernel, features));
  EXPECT_THROW(kernel{&short_one}, error);
  bnc_kernel unknown = copying_kernel(1u << 20);
  EXPECT_THROW(kernel{&unknown}, error);
}

// bnconform/views.h: a dense kernel behind bnc_forward_densely gives the same bits on
// every view, in place too; a bad view is refused before anything is read.
TEST(ViewsHeader, TheReferenceGivesTheSameBitsOnEveryView) {
  const bnc_kernel* reference = reference::reference_kernel(256);
  const kernel k(reference);
  const problem dense = problem::parse("shape=3x3x4x5,dtype=f32");
  const tensor x = counting(dense);
  module_state dense_state = module_state::initial(dense);
  const forward_outputs expected = k.forward(dense, x, dense_state);
  ASSERT_TRUE(expected.status.ok());
  for (const char* views :
       {",x_strides=105x35x8x1,y_strides=110x36x8x1", ",x_strides=4x60x1x12", ",in_place=true",
        ",in_place=true,x_strides=4x60x1x12", ",y_strides=60x1x15x3"}) {
    const problem p = problem::parse(dense.to_string() + views);
    module_state state = module_state::initial(p);
    const forward_outputs out = k.forward(p, x, state);
    EXPECT_TRUE(out.status.ok()) << views << ": " << out.status.message;
    EXPECT_TRUE(out.guards.empty()) << views;
    EXPECT_TRUE(out.y.bitwise_equal(expected.y)) << views;
    EXPECT_TRUE(out.save_mean.bitwise_equal(expected.save_mean)) << views;
    EXPECT_TRUE(state.running_var.bitwise_equal(dense_state.running_var)) << views;
  }
}

TEST(ViewsHeader, CopiesRoundTripThroughTheDenseLayout) {
  const std::int64_t shape[] = {2, 3, 4};
  bnc_problem p{};
  p.struct_size = sizeof p;
  p.rank = 3;
  p.shape = shape;
  p.layout = BNC_LAYOUT_CHANNELS_LAST;
  p.data_dtype = BNC_DTYPE_F32;
  const std::int64_t strides[] = {40, 1, 8};  // C innermost, rows of 4 at stride 8
  std::vector<float> dense(24), back(80, -1.0f);
  for (std::size_t i = 0; i < dense.size(); ++i) dense[i] = static_cast<float>(i);
  ASSERT_EQ(bnc_view_copy(&p, strides, back.data(), dense.data(), 0), 1);
  std::vector<float> again(24, 0.0f);
  ASSERT_EQ(bnc_view_copy(&p, strides, back.data(), again.data(), 1), 1);
  EXPECT_EQ(again, dense);
  // Element (n, c, s) of the dense channels-last tensor is at (n * 4 + s) * 3 + c.
  EXPECT_EQ(back[1 * 40 + 2 * 1 + 3 * 8], dense[(1 * 4 + 3) * 3 + 2]);
  EXPECT_EQ(back[3], -1.0f);  // padding untouched
}

}  // namespace
}  // namespace bnconform
