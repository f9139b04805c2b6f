#pragma once
// Imports ONNX's own BatchNormalization node tests (Debian's libonnx-testdata:
// data/node/test_batchnorm_*/{model.onnx, test_data_set_0/{input,output}_K.pb})
// into golden cases of the onnx profile. Built only with libonnx-dev (the
// generated onnx-ml.pb.h and libonnx_proto that Debian ships, on libprotobuf).
#include <string>
#include <vector>

#include "golden_file.hpp"

namespace bnconform::golden {

// Whether this build can read ONNX files.
bool onnx_import_available();

// One test directory (test_batchnorm_*) as a case: the node's attributes make the
// problem (epsilon, momentum, training_mode; defaults of BatchNormalization-15),
// its inputs the state and x, its outputs the external outputs of step 0. The
// expected outputs are left empty (regen.hpp fills them from the reference).
// Throws bnconform::error naming the file for anything it cannot read.
golden_case import_onnx_test(const std::string& test_directory);

// The test_batchnorm_* directories under DIR (DIR itself when it is one), sorted.
std::vector<std::string> onnx_batchnorm_tests(const std::string& directory);

}  // namespace bnconform::golden
