# bnconform_add_certify_test(TARGET <kernel library target>
#                            [LEVEL strict|standard] [NAME <test name>]
#                            [BUDGET <seconds>] [SHAPES <file>] [JOBS <n>]
#                            [REPORT <directory>] [RANKS <n>])
#
# Registers a ctest test that runs the installed `bnconform certify` on the built
# kernel library (a MODULE or SHARED target exporting bnconform_kernel) and passes
# when the kernel is certified (docs/certify.md):
#   LEVEL   the error-model level, passed as --level (certify's default: standard)
#   NAME    the test's name (default bnconform_certify_<target>)
#   BUDGET  seconds of property search, passed as --budget (certify's default: 20)
#   SHAPES  a file of shapes for the realistic group, passed as --shapes (certify's
#           default: the layers of four networks at batch 32, minutes of work)
#   JOBS    worker processes, passed as --jobs (certify's default: one per CPU)
#   REPORT  where certificate.json and junit.xml go
#           (default <current binary dir>/bnconform-certify/<test name>)
#   RANKS   reserved for distributed certification; this version of bnconform has
#           no --ranks, and giving RANKS is an error that says so.
function(bnconform_add_certify_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;LEVEL;NAME;BUDGET;SHAPES;JOBS;REPORT;RANKS" "")
  set(self bnconform_add_certify_test)
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${self}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(DEFINED arg_RANKS)
    message(FATAL_ERROR "${self}: RANKS is not supported by this bnconform version "
      "(${bnconform_VERSION}): `bnconform certify` has no --ranks")
  endif()
  if(NOT arg_TARGET)
    message(FATAL_ERROR "${self}: TARGET <kernel library target> is required")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "${self}: '${arg_TARGET}' is not a target")
  endif()
  get_target_property(type ${arg_TARGET} TYPE)
  if(NOT type MATCHES "^(MODULE|SHARED)_LIBRARY$")
    message(FATAL_ERROR "${self}: '${arg_TARGET}' is a ${type}, not a MODULE or SHARED library")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME bnconform_certify_${arg_TARGET})
  endif()
  if(NOT arg_REPORT)
    set(arg_REPORT ${CMAKE_CURRENT_BINARY_DIR}/bnconform-certify/${arg_NAME})
  endif()

  set(options)
  if(arg_LEVEL)
    if(NOT arg_LEVEL MATCHES "^(strict|standard)$")
      message(FATAL_ERROR "${self}: LEVEL '${arg_LEVEL}' is neither strict nor standard")
    endif()
    list(APPEND options --level ${arg_LEVEL})
  endif()
  if(DEFINED arg_BUDGET)
    list(APPEND options --budget ${arg_BUDGET})
  endif()
  if(arg_SHAPES)
    get_filename_component(shapes "${arg_SHAPES}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND options --shapes ${shapes})
  endif()
  if(arg_JOBS)
    list(APPEND options --jobs ${arg_JOBS})
  endif()
  add_test(NAME ${arg_NAME}
    COMMAND bnconform::bnconform certify --kernel $<TARGET_FILE:${arg_TARGET}> ${options}
      --report ${arg_REPORT})
  set_tests_properties(${arg_NAME} PROPERTIES LABELS bnconform)
endfunction()
