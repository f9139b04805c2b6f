# The install test (ctest -L install): installs the built project into a prefix,
# moves the prefix (nothing may point at where it was built or installed), builds
# the consumer project of this folder against it with find_package, runs its
# certify test, and runs the installed command from another working directory.
#
#   cmake -DBUILD_DIR=<built tree> -DSOURCE_DIR=<repository> -DWORK_DIR=<scratch>
#         [-DGENERATOR=Ninja] [-DC_COMPILER=cc] -P tests/consumer/run.cmake
#
# A kernel team runs the same steps by hand (docs/certify.md, "Build a shared
# library"): cmake --install; cmake -S . -B build -DCMAKE_PREFIX_PATH=<prefix>;
# cmake --build build; ctest --test-dir build.
cmake_minimum_required(VERSION 3.25)
foreach(required BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT ${required})
    message(FATAL_ERROR "run.cmake: -D${required}=... is required")
  endif()
endforeach()

# step(<what> [CWD dir] [EXPECT_FAILURE] [OUTPUT var] COMMAND ...): runs a command and
# stops the test with its output unless it exits as expected.
function(step what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EXPECT_FAILURE" "CWD;OUTPUT" "COMMAND")
  if(NOT arg_CWD)
    set(arg_CWD ${WORK_DIR})
  endif()
  message(STATUS "install test: ${what}")
  execute_process(COMMAND ${arg_COMMAND} WORKING_DIRECTORY ${arg_CWD}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(arg_EXPECT_FAILURE AND rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what}: succeeded, expected a failure:\n${out}")
  elseif(NOT arg_EXPECT_FAILURE AND NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what}: exit ${rc}:\n${out}")
  endif()
  if(arg_OUTPUT)
    set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# expect(<text> <substring> <what>)
function(expect text substring what)
  string(FIND "${text}" "${substring}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "install test: ${what}: no '${substring}' in:\n${text}")
  endif()
endfunction()

set(staging ${WORK_DIR}/staging)
set(prefix ${WORK_DIR}/prefix)
set(consumer ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

step("install" COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${staging} --strip)
file(RENAME ${staging} ${prefix})
set(bnconform ${prefix}/bin/bnconform)

# No path of the source or build tree in what was installed (the build tree lies
# inside the source tree in the presets' layout, so one pattern covers both).
file(GLOB_RECURSE binaries ${prefix}/bin/* ${prefix}/lib/*.so)
foreach(tree ${SOURCE_DIR} ${BUILD_DIR})
  string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" pattern "${tree}")
  foreach(binary IN LISTS binaries)
    file(STRINGS ${binary} found REGEX "${pattern}" LIMIT_COUNT 1)
    if(found)
      message(FATAL_ERROR "install test: ${binary} holds the path '${tree}': ${found}")
    endif()
  endforeach()
endforeach()

set(generator_options)
if(GENERATOR)
  list(APPEND generator_options -G ${GENERATOR})
endif()
if(C_COMPILER)
  list(APPEND generator_options -DCMAKE_C_COMPILER=${C_COMPILER})
endif()
step("configure the consumer project"
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${consumer} ${generator_options}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS ${consumer}/CMakeCache.txt found_at REGEX "^bnconform_DIR:")
expect("${found_at}" "${prefix}/" "find_package(bnconform) found the installed package")
step("build the consumer project" COMMAND ${CMAKE_COMMAND} --build ${consumer})
step("certify the example kernel (the consumer's ctest)" OUTPUT out
  COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${consumer} --output-on-failure)
expect("${out}" "100% tests passed" "the consumer's ctest")

# The installed command from elsewhere: its catalog and plugins found beside it.
set(elsewhere /tmp)
step("certify --help from ${elsewhere}" CWD ${elsewhere} OUTPUT out
  COMMAND ${bnconform} certify --kernel cpu --help)
expect("${out}" "${prefix}/share/bnconform/golden/cases" "the default golden catalog")
step("a short certify of the cpu kernel from ${elsewhere}" CWD ${elsewhere} OUTPUT out
  COMMAND ${bnconform} certify --kernel cpu --level strict --budget 0
    --shapes ${SOURCE_DIR}/tests/certify/small_shapes.txt)
expect("${out}" "verdict: CERTIFIED at strict" "the cpu kernel's certify")
file(GLOB_RECURSE golden_files ${SOURCE_DIR}/golden/cases/*.json)
list(LENGTH golden_files golden_count)
if(NOT out MATCHES "\ngolden +${golden_count} item")
  message(FATAL_ERROR "install test: certify did not run the ${golden_count} golden cases:\n${out}")
endif()
step("golden check from ${elsewhere}" CWD ${elsewhere} OUTPUT out
  COMMAND ${bnconform} golden check --kernel cpu ops.)
expect("${out}" " pass, 0 fail, " "golden check of the installed catalog")
file(GLOB_RECURSE onednn ${prefix}/lib/libbnconform_onednn_plugin.so)
if(onednn)
  step("a peer plugin by name from ${elsewhere}" CWD ${elsewhere}
    COMMAND ${bnconform} certify --kernel onednn --only "coverage/forward-training f32 channels_first")
endif()
step("BNCONFORM_DATA_DIR overrides" CWD ${elsewhere} EXPECT_FAILURE OUTPUT out
  COMMAND ${CMAKE_COMMAND} -E env BNCONFORM_DATA_DIR=${WORK_DIR}/nowhere
    ${bnconform} certify --kernel cpu --groups golden)
expect("${out}" "${WORK_DIR}/nowhere/golden/cases" "the error naming BNCONFORM_DATA_DIR's catalog")
message(STATUS "install test: passed")
