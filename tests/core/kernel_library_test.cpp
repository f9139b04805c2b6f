// Tests of core/kernel_library: loading the reference plugin and getting the same
// bits as the linked-in reference, and a clear bnconform::error for each way a
// path can fail to be a kernel library.
#include "core/kernel_library.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "reference/reference_kernel.hpp"

#ifndef BNCONFORM_REFERENCE_PLUGIN
#error "BNCONFORM_REFERENCE_PLUGIN must name the reference plugin"
#endif

namespace bnconform {
namespace {

using ::testing::HasSubstr;

std::string load_error(const std::string& path) {
  try {
    const kernel_library library(path);
    ADD_FAILURE() << "'" << path << "' loaded as kernel " << library.kernel().name();
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

// A fresh directory under the system temp directory, removed at the end.
class scratch_dir {
 public:
  scratch_dir() {
    path_ = std::filesystem::temp_directory_path() /
            ("bnconform_kernel_library_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(KernelLibrary, LoadsTheReferencePlugin) {
  const kernel_library library(BNCONFORM_REFERENCE_PLUGIN);
  EXPECT_EQ(library.path(), BNCONFORM_REFERENCE_PLUGIN);
  EXPECT_EQ(library.kernel().name(), "reference");
  EXPECT_EQ(library.kernel().capabilities().keeps_module_state, 1);
}

TEST(KernelLibrary, PluginMatchesTheLinkedInReferenceBitwise) {
  const kernel_library library(BNCONFORM_REFERENCE_PLUGIN);
  const kernel linked(reference::reference_kernel(256));
  // Inputs with no exact result (thirds, sevenths) so that the outputs carry
  // rounded bits; f16 and channels_last as well as f32.
  for (const char* spec : {"shape=3x2x5,momentum=none", "shape=4x3x2x2,dtype=f16,layout=cl",
                           "shape=2x2x3,dtype=f64,mode=eval,track=false"}) {
    const problem p = problem::parse(spec);
    tensor x(p.data_type(), p.element_count());
    for (std::int64_t i = 0; i < x.size(); ++i)
      x.set(i, static_cast<double>((i * 7) % 11) / 3.0 - static_cast<double>(i) / 7.0);
    module_state from_plugin = module_state::initial(p);
    module_state from_linked = module_state::initial(p);
    for (int step = 0; step < 2; ++step) {
      const forward_outputs a = library.kernel().forward(p, x, from_plugin);
      const forward_outputs b = linked.forward(p, x, from_linked);
      ASSERT_TRUE(a.status.ok()) << spec << ": " << a.status.message;
      ASSERT_TRUE(b.status.ok()) << spec << ": " << b.status.message;
      EXPECT_TRUE(a.y.bitwise_equal(b.y)) << spec;
      EXPECT_TRUE(a.save_mean.bitwise_equal(b.save_mean)) << spec;
      EXPECT_TRUE(a.save_invstd.bitwise_equal(b.save_invstd)) << spec;
      EXPECT_TRUE(from_plugin.running_mean.bitwise_equal(from_linked.running_mean)) << spec;
      EXPECT_TRUE(from_plugin.running_var.bitwise_equal(from_linked.running_var)) << spec;
      EXPECT_EQ(from_plugin.num_batches_tracked, from_linked.num_batches_tracked);
      // The forward did something: y is no longer the NaN fill.
      for (double v : a.y.values()) ASSERT_FALSE(std::isnan(v)) << spec;
    }
  }
}

TEST(KernelLibrary, NonexistentPath) {
  const std::string path = "/nonexistent/bnconform/libkernel.so";
  const std::string message = load_error(path);
  EXPECT_THAT(message, HasSubstr("cannot load kernel library"));
  EXPECT_THAT(message, HasSubstr(path));
}

TEST(KernelLibrary, FileThatIsNotALibrary) {
  const scratch_dir dir;
  const std::filesystem::path path = dir.path() / "not_a_library.so";
  std::ofstream(path) << "this is a text file, not a shared library\n";
  const std::string message = load_error(path.string());
  EXPECT_THAT(message, HasSubstr("cannot load kernel library"));
  EXPECT_THAT(message, HasSubstr(path.string()));
}

TEST(KernelLibrary, LibraryWithoutTheSymbol) {
  const std::string message = load_error(BNCONFORM_NO_SYMBOL_PLUGIN);
  EXPECT_THAT(message, HasSubstr("does not export the kernel symbol bnconform_kernel"));
  EXPECT_THAT(message, HasSubstr(BNCONFORM_NO_SYMBOL_PLUGIN));
}

TEST(KernelLibrary, LibraryWithAnotherAbiVersion) {
  const std::string message = load_error(BNCONFORM_WRONG_ABI_PLUGIN);
  EXPECT_THAT(message, HasSubstr("ABI version 2.0 is not supported"));
  EXPECT_THAT(message, HasSubstr(BNCONFORM_WRONG_ABI_PLUGIN));
}

TEST(KernelLibrary, LoadsAgainAfterAFailure) {
  // A failed load must not leave the loader unusable (handles are closed).
  (void)load_error(BNCONFORM_WRONG_ABI_PLUGIN);
  (void)load_error(BNCONFORM_NO_SYMBOL_PLUGIN);
  const kernel_library first(BNCONFORM_REFERENCE_PLUGIN);
  const kernel_library second(BNCONFORM_REFERENCE_PLUGIN);
  EXPECT_EQ(first.kernel().name(), second.kernel().name());
}

}  // namespace
}  // namespace bnconform
