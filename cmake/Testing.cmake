# bnconform_add_test(NAME SOURCES ... [LIBS ...] LABELS ...): one GoogleTest
# executable whose tests are registered with ctest under the given labels.
# Labels: unit, property, golden, gpu, slow, mpi (through mpiexec, 2 to 4 ranks). The default test presets run all but
# slow; gpu tests skip (GTEST_SKIP with a message) where there is no device.
set(BNCONFORM_TEST_LABELS unit property golden gpu slow mpi)
# Test executables of these labels are not built (the ASan preset skips the tiers its
# test preset does not run: slow, golden).
set(BNCONFORM_SKIP_TEST_LABELS "" CACHE STRING "Labels whose test executables are not built")
# Test code is compiled at -Og with line tables: half the compile time of -O2 -g, and
# the code under test (the libraries) keeps the build type's flags. The compiler
# takes the last -O and -g, so these override CMAKE_CXX_FLAGS_<CONFIG>.
set(BNCONFORM_TEST_COMPILE_OPTIONS "$<$<NOT:$<CONFIG:Debug>>:-Og;-g1>" CACHE STRING
  "Compile options of the test executables' own sources")

function(bnconform_add_test name)
  cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT arg_LABELS)
    message(FATAL_ERROR "bnconform_add_test(${name}): LABELS is required")
  endif()
  # One label per test: the tiers are exclusive (a slow property test is `slow`), and
  # gtest_discover_tests would split a list into separate properties, silently
  # dropping all but the first label.
  list(LENGTH arg_LABELS label_count)
  if(NOT label_count EQUAL 1)
    message(FATAL_ERROR "bnconform_add_test(${name}): give exactly one label, got '${arg_LABELS}'")
  endif()
  foreach(label IN LISTS arg_LABELS)
    if(NOT label IN_LIST BNCONFORM_TEST_LABELS)
      message(FATAL_ERROR "bnconform_add_test(${name}): unknown label '${label}' (known: ${BNCONFORM_TEST_LABELS})")
    endif()
  endforeach()
  if(arg_LABELS IN_LIST BNCONFORM_SKIP_TEST_LABELS)
    return()
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest GTest::gtest_main bnconform::warnings)
  target_compile_options(${name} PRIVATE ${BNCONFORM_TEST_COMPILE_OPTIONS})
  # Shared test helpers: #include "tests/support/...".
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${arg_LABELS}" TIMEOUT ${arg_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
