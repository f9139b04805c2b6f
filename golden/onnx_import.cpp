#include "onnx_import.hpp"

#include <onnx/onnx-ml.pb.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/float_bits.hpp"

namespace bnconform::golden {

namespace fs = std::filesystem;

namespace {

template <class Message>
Message read_proto(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) report_error(path.string() + ": cannot open");
  Message m;
  if (!m.ParseFromIstream(&in)) report_error(path.string() + ": not a valid protobuf message");
  return m;
}

dtype dtype_of(const onnx::TensorProto& t, const std::string& where) {
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_DOUBLE: return dtype::f64;
    case onnx::TensorProto_DataType_FLOAT: return dtype::f32;
    case onnx::TensorProto_DataType_FLOAT16: return dtype::f16;
    case onnx::TensorProto_DataType_BFLOAT16: return dtype::bf16;
    default: break;
  }
  report_error(where + ": tensor data type " + std::to_string(t.data_type()) +
               " is not f64, f32, f16 or bf16");
}

// The values of a TensorProto (raw_data little-endian, or the typed fields), exact.
std::vector<double> values_of(const onnx::TensorProto& t, dtype type, const std::string& where) {
  std::int64_t count = 1;
  for (std::int64_t d : t.dims()) count *= d;
  std::vector<double> out;
  if (!t.raw_data().empty()) {
    if (static_cast<std::int64_t>(t.raw_data().size()) !=
        count * static_cast<std::int64_t>(size_of(type))) {
      report_error(where + ": raw_data has " + std::to_string(t.raw_data().size()) + " bytes for " +
                   std::to_string(count) + " values");
    }
    return read_values(t.raw_data().data(), type, count);
  }
  if (type == dtype::f32) out.assign(t.float_data().begin(), t.float_data().end());
  if (type == dtype::f64) out.assign(t.double_data().begin(), t.double_data().end());
  if (type == dtype::f16 || type == dtype::bf16) {
    for (std::int32_t bits : t.int32_data()) {
      const auto b = static_cast<std::uint16_t>(bits);
      out.push_back(type == dtype::f16 ? decode_f16(b) : decode_bf16(b));
    }
  }
  if (static_cast<std::int64_t>(out.size()) != count) {
    report_error(where + ": " + std::to_string(out.size()) + " values for dims of " +
                 std::to_string(count));
  }
  return out;
}

struct loaded_tensor {
  dtype type;
  std::vector<std::int64_t> dims;
  std::vector<double> values;
};

loaded_tensor load(const fs::path& path) {
  const auto t = read_proto<onnx::TensorProto>(path);
  loaded_tensor out;
  out.type = dtype_of(t, path.string());
  out.dims.assign(t.dims().begin(), t.dims().end());
  out.values = values_of(t, out.type, path.string());
  return out;
}

const onnx::NodeProto& batchnorm_node(const onnx::ModelProto& model, const std::string& where) {
  if (model.graph().node_size() != 1 || model.graph().node(0).op_type() != "BatchNormalization") {
    report_error(where + ": expected a graph of one BatchNormalization node");
  }
  return model.graph().node(0);
}

std::int64_t opset_of(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  }
  return 0;
}

tensor vector_of(const loaded_tensor& t, dtype stats, std::int64_t channels,
                 const std::string& what, const std::string& where) {
  if (t.type != stats || t.dims != std::vector<std::int64_t>{channels}) {
    report_error(where + ": " + what + " must be " + std::to_string(channels) + " " +
                 std::string(name_of(stats)) + " values");
  }
  return tensor::from_values(stats, t.values);
}

}  // namespace

bool onnx_import_available() { return true; }

std::vector<std::string> onnx_batchnorm_tests(const std::string& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) report_error(directory + ": not a directory");
  std::vector<std::string> out;
  if (fs::path(directory).filename().string().starts_with("test_batchnorm_")) {
    return {directory};
  }
  for (const auto& entry : fs::recursive_directory_iterator(directory)) {
    if (entry.is_directory() && entry.path().filename().string().starts_with("test_batchnorm_")) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) report_error(directory + ": no test_batchnorm_* directories");
  return out;
}

golden_case import_onnx_test(const std::string& test_directory) {
  const fs::path dir(test_directory);
  const fs::path model_path = dir / "model.onnx";
  const auto model = read_proto<onnx::ModelProto>(model_path);
  const onnx::NodeProto& node = batchnorm_node(model, model_path.string());
  // BatchNormalization-15's defaults; the attributes are floats (f32 values).
  double eps = 1e-5f, momentum = 0.9f;
  std::int64_t training = 0;
  for (const auto& a : node.attribute()) {
    if (a.name() == "epsilon")
      eps = a.f();
    else if (a.name() == "momentum")
      momentum = a.f();
    else if (a.name() == "training_mode")
      training = a.i();
    else
      report_error(model_path.string() + ": unexpected attribute " + a.name());
  }
  const fs::path data = dir / "test_data_set_0";
  if (node.input_size() != 5) report_error(model_path.string() + ": expected 5 inputs");
  std::vector<loaded_tensor> in;
  for (int k = 0; k < 5; ++k) in.push_back(load(data / ("input_" + std::to_string(k) + ".pb")));
  const loaded_tensor& x = in[0];
  if (x.dims.size() < 2) report_error((data / "input_0.pb").string() + ": X needs rank >= 2");

  problem::fields f;
  f.shape = x.dims;
  f.data_type = x.type;
  f.mode = training != 0 ? mode::training : mode::eval;
  f.eps = eps;
  f.momentum = momentum;
  f.profile = profile::onnx;
  const problem p(f);
  const std::string where = data.string();
  const std::string name = "onnx." + dir.filename().string().substr(5);  // drop "test_"
  golden_case g(name, case_file(name, p));
  g.imported = import_source{"onnx", dir.filename().string(),
                             "libonnx-testdata (ONNX's numpy reference outputs)",
                             "BatchNormalization-" + std::to_string(opset_of(model)) +
                                 (training != 0 ? ", training_mode=1" : "")};
  g.inputs.description = "imported from ONNX's node test " + dir.filename().string();
  g.inputs.state_given = true;
  g.inputs.state.gamma = vector_of(in[1], p.stats_type(), p.channels(), "scale", where);
  g.inputs.state.beta = vector_of(in[2], p.stats_type(), p.channels(), "B", where);
  g.inputs.state.running_mean = vector_of(in[3], p.stats_type(), p.channels(), "input_mean", where);
  g.inputs.state.running_var = vector_of(in[4], p.stats_type(), p.channels(), "input_var", where);
  case_step step(step_op::forward, p);
  step.x = tensor::from_values(p.data_type(), x.values);
  g.inputs.steps.push_back(std::move(step));

  external_step outputs;
  const std::vector<std::string> names = {"y", "running_mean", "running_var"};
  for (int k = 0; k < node.output_size() && k < 3; ++k) {
    const fs::path file = data / ("output_" + std::to_string(k) + ".pb");
    const loaded_tensor t = load(file);
    if (k == 0 && (t.type != p.data_type() || t.dims != x.dims)) {
      report_error(file.string() + ": Y must have X's dtype and shape");
    }
    outputs.outputs.push_back({names[static_cast<std::size_t>(k)],
                               k == 0
                                   ? tensor::from_values(p.data_type(), t.values)
                                   : vector_of(t, p.stats_type(), p.channels(),
                                               names[static_cast<std::size_t>(k)], file.string())});
  }
  g.external.push_back(std::move(outputs));
  return g;
}

}  // namespace bnconform::golden
