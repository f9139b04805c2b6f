// The ONNX importer when libonnx-dev was not found at configure time.
#include "core/error.hpp"
#include "onnx_import.hpp"

namespace bnconform::golden {

bool onnx_import_available() { return false; }

std::vector<std::string> onnx_batchnorm_tests(const std::string&) {
  report_error(
      "this bnconform was built without ONNX support (install libonnx-dev, see ci/setup.sh)");
}

golden_case import_onnx_test(const std::string&) {
  report_error(
      "this bnconform was built without ONNX support (install libonnx-dev, see ci/setup.sh)");
}

}  // namespace bnconform::golden
