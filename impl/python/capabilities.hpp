#pragma once
// A Python kernel's `capabilities` dict as the ABI's bnc_capabilities:
//
//   capabilities = {
//       "name": "torch-functional", "version": "1.13.1",
//       "operations": ["forward-training", "forward-eval", "backward-training", "backward-eval"],
//       "dtypes": ["f64", "f32", "bf16"], "layouts": ["channels_first", "channels_last"],
//       "profiles": ["pytorch"],            # default
//       "ranks": (2, None),                 # default: any rank >= 2
//       "keeps_module_state": False,        # default
//   }
//
// An unknown key or value is an error that names it and what is known.
#include <pybind11/pybind11.h>

#include <string>

#include "bnconform/kernel.h"

namespace bnconform::python_host {

namespace py = pybind11;

struct declared_kernel {
  std::string name, version;
  bnc_capabilities capabilities{};
};

// Throws bnconform::error ("capabilities['dtypes']: unknown dtype 'f8' (known: ...)").
declared_kernel read_capabilities(const py::handle& dict);

}  // namespace bnconform::python_host
