# Every dependency comes from the system (Debian packages, installed by
# ci/setup.sh) through find_package; nothing is downloaded at configure time.
# Required parts stop the configure with the package to install; optional parts
# are switched off with one message each.

find_package(Boost 1.74 REQUIRED)  # Multiprecision is header-only
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
if(BNCONFORM_BUILD_TESTS)
  find_package(GTest 1.11 REQUIRED)
  include(GoogleTest)
endif()

function(bnconform_optional name package_hint)
  if(${name}_FOUND)
    message(STATUS "bnconform: ${name} found: enabled")
  else()
    message(STATUS "bnconform: ${name} not found: switched off (install ${package_hint}, see ci/setup.sh)")
  endif()
endfunction()

find_package(benchmark QUIET)
bnconform_optional(benchmark libbenchmark-dev)
find_package(rapidcheck QUIET)
bnconform_optional(rapidcheck librapidcheck-dev)
# Debian's dnnl-config.cmake requires the OpenCL headers even for CPU use, so
# oneDNN is found by its header and library instead.
find_path(BNCONFORM_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(BNCONFORM_DNNL_LIBRARY dnnl)
if(BNCONFORM_DNNL_INCLUDE_DIR AND BNCONFORM_DNNL_LIBRARY)
  set(dnnl_FOUND TRUE)
  add_library(bnconform_dnnl INTERFACE IMPORTED)
  target_include_directories(bnconform_dnnl INTERFACE ${BNCONFORM_DNNL_INCLUDE_DIR})
  target_link_libraries(bnconform_dnnl INTERFACE ${BNCONFORM_DNNL_LIBRARY})
endif()
bnconform_optional(dnnl libdnnl-dev)
find_package(Torch QUIET)
bnconform_optional(Torch libtorch-dev)

# CUDA lives in /usr/local/cuda and nvcc is not on PATH. Only detected here:
# impl/cuda enables the language (and says whether it builds the kernel).
if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "nvcc")
endif()
if(DEFINED CMAKE_CUDA_COMPILER AND EXISTS "${CMAKE_CUDA_COMPILER}")
  message(STATUS "bnconform: CUDA compiler ${CMAKE_CUDA_COMPILER} found (architectures ${BNCONFORM_CUDA_ARCHITECTURES})")
else()
  message(STATUS "bnconform: CUDA not found: switched off (expected /usr/local/cuda/bin/nvcc)")
endif()

# Python: the `bnconform` module (python/) and the python: kernel host
# (impl/python/). Debian's interpreter by default: the first python3 on PATH may be
# another one, without Debian's numpy, pytest and torch. The asan preset turns this
# off (CMakePresets.json).
option(BNCONFORM_PYTHON "Build the Python module and the Python kernel host" ON)
if(BNCONFORM_PYTHON)
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter (Debian's)")
  endif()
  find_package(Python3 3.9 QUIET COMPONENTS Interpreter Development.Module Development.Embed)
  if(Python3_FOUND)
    find_package(pybind11 2.6 QUIET CONFIG)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(BNCONFORM_HAVE_PYTHON TRUE)
    message(STATUS "bnconform: Python ${Python3_VERSION} (${Python3_EXECUTABLE}) and pybind11 "
      "${pybind11_VERSION} found: the bnconform module and the python: kernel host enabled")
  else()
    message(STATUS "bnconform: Python 3 development files or pybind11 not found: the bnconform "
      "module and the python: kernel host switched off (install python3-dev pybind11-dev, see "
      "ci/setup.sh)")
  endif()
else()
  message(STATUS "bnconform: BNCONFORM_PYTHON=OFF: the bnconform module and the python: kernel host switched off")
endif()
