#include "kernel_registry.hpp"

#include <utility>
#include <vector>

#include "core/error.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/mutants/model_kernel.hpp"
#include "install_paths.hpp"
#include "reference/reference_kernel.hpp"
#ifdef BNCONFORM_HAVE_CUDA
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/cuda/device_memory.hpp"
#endif
#ifdef BNCONFORM_HAVE_CUDNN
#include "impl/cuda/cudnn/cudnn_kernel.hpp"
#endif

namespace bnconform::cli {

loaded_kernel::loaded_kernel(std::unique_ptr<kernel> builtin,
                             std::unique_ptr<kernel_library> library,
                             std::unique_ptr<memory_space> device)
    : device_(std::move(device)), builtin_(std::move(builtin)), library_(std::move(library)) {}

namespace {

#ifdef BNCONFORM_HAVE_CUDA
loaded_kernel on_device(const std::string& name, const bnc_kernel* description) {
  cuda::device_opening opened = cuda::open_device_with_reason();
  if (opened.device == nullptr)
    report_error("kernel '" + name + "' needs a CUDA device: " + opened.reason);
  auto k = std::make_unique<kernel>(description, opened.device.get());
  return {std::move(k), nullptr, std::move(opened.device)};
}
#endif

// Peer adapters that were built (impl/adapters), reached through their plugin
// libraries so that the command loads libtorch or oneDNN only when asked to.
// Their files lie in the plugin directory (cli/install_paths.hpp).
struct peer_plugin {
  std::string_view name;
  const char* file_name;
  std::string path() const { return (plugin_directory() / file_name).string(); }
};

std::vector<peer_plugin> peer_plugins() {
  return {
#ifdef BNCONFORM_ONEDNN_PLUGIN_FILE
      {"onednn", BNCONFORM_ONEDNN_PLUGIN_FILE},
#endif
#ifdef BNCONFORM_ONEDNN_BLOCKED_PLUGIN_FILE
      {"onednn-blocked", BNCONFORM_ONEDNN_BLOCKED_PLUGIN_FILE},
#endif
#ifdef BNCONFORM_LIBTORCH_PLUGIN_FILE
      {"libtorch", BNCONFORM_LIBTORCH_PLUGIN_FILE},
#endif
#ifdef BNCONFORM_LIBTORCH_NATIVE_PLUGIN_FILE
      {"libtorch-native", BNCONFORM_LIBTORCH_NATIVE_PLUGIN_FILE},
#endif
  };
}

// A kernel written in Python, served by the Python kernel host (impl/python/) from
// the plugin directory.
loaded_kernel load_python_kernel(const std::string& module) {
  if (module.empty()) {
    report_error("--kernel python: names no module (python:PACKAGE.MODULE or python:FILE.py)");
  }
#ifdef BNCONFORM_PYTHON_HOST_FILE
  const std::string host = (plugin_directory() / BNCONFORM_PYTHON_HOST_FILE).string();
  return {nullptr, std::make_unique<kernel_library>(host, module)};
#else
  report_error("--kernel python:" + module +
               ": this build has no Python kernel host (install python3-dev and pybind11-dev, "
               "see ci/setup.sh, and configure again)");
#endif
}

}  // namespace

bool is_python_kernel(std::string_view name) { return name.starts_with(python_prefix); }

bool is_kernel_path(std::string_view name) {
  if (is_python_kernel(name)) return false;
  return name.find('/') != std::string_view::npos || name.ends_with(".so");
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names{"reference", "cpu"};
#ifdef BNCONFORM_HAVE_CUDA
  names.emplace_back("cuda");
#endif
#ifdef BNCONFORM_HAVE_CUDNN
  names.emplace_back("cudnn");
#endif
  for (const peer_plugin& peer : peer_plugins()) names.emplace_back(peer.name);
  for (const auto list : {mutants::correct_models(), mutants::zoo(), mutants::convention_zoo(),
                          mutants::contract_zoo(), mutants::distributed_zoo()}) {
    for (const auto& m : list) names.emplace_back(m.name);
  }
  names.emplace_back(mutants::sequential_model().name);
  names.emplace_back(mutants::sync_model().name);
  return names;
}

std::string kernel_option_help(const std::string& default_name) {
  std::string text = "A built-in kernel (";
  const std::vector<std::string> names = kernel_names();
  for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : ", ") + names[i];
  text += ") or the path of a kernel shared library";
#ifdef BNCONFORM_PYTHON_HOST_FILE
  text += ", or python:MODULE (a kernel written in Python: a module name or a .py file)";
#endif
  if (!default_name.empty()) text += " (default " + default_name + ")";
  return text;
}

loaded_kernel load_kernel(const std::string& name, int precision_bits) {
  if (is_python_kernel(name)) {
    if (precision_bits != 0) report_error("--precision applies to the reference kernel only");
    return load_python_kernel(name.substr(python_prefix.size()));
  }
  if (is_kernel_path(name)) {
    if (precision_bits != 0) {
      report_error("--precision applies to the reference kernel only, not to " + name);
    }
    return {nullptr, std::make_unique<kernel_library>(name)};
  }
  if (name == "reference") {
    // Without --precision: 256 bits, more where the self-check asks for it.
    const int bits = precision_bits == 0 ? 256 : precision_bits;
    const bnc_kernel* description = precision_bits == 0 ? reference::escalating_reference_kernel()
                                                        : reference::reference_kernel(bits);
    if (description == nullptr) {
      report_error("--precision: " + std::to_string(bits) +
                   " is not supported (expected 128, 256, 512 or 1024)");
    }
    return {std::make_unique<kernel>(description), nullptr};
  }
  if (name == "cpu") {
    if (precision_bits != 0) report_error("--precision applies to the reference kernel only");
    return {std::make_unique<kernel>(cpu::cpu_kernel()), nullptr};
  }
#ifdef BNCONFORM_HAVE_CUDA
  if (name == "cuda") return on_device(name, cuda::cuda_kernel());
#endif
#ifdef BNCONFORM_HAVE_CUDNN
  if (name == "cudnn") return on_device(name, cudnn::cudnn_kernel());
#endif
  // Built peer adapters (impl/adapters), loaded from their plugins.
  for (const peer_plugin& peer : peer_plugins()) {
    if (peer.name == name) {
      if (precision_bits != 0) report_error("--precision applies to the reference kernel only");
      return {nullptr, std::make_unique<kernel_library>(peer.path())};
    }
  }
  // The model kernels and the mutant zoo (impl/mutants), to see the battery at work.
  for (const auto list : {mutants::correct_models(), mutants::zoo(), mutants::convention_zoo(),
                          mutants::contract_zoo(), mutants::distributed_zoo()}) {
    for (const auto& m : list) {
      if (m.name == name) return {std::make_unique<kernel>(&m.kernel), nullptr};
    }
  }
  for (const mutants::model* m : {&mutants::sequential_model(), &mutants::sync_model()}) {
    if (name == m->name) return {std::make_unique<kernel>(&m->kernel), nullptr};
  }
  std::string known;
  for (const std::string& k : kernel_names()) known += (known.empty() ? "" : ", ") + k;
  report_error("unknown kernel '" + name + "' (known: " + known +
               "; or a path to a kernel shared library, e.g. ./libmine.so)");
}

}  // namespace bnconform::cli
