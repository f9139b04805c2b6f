# The style check (ctest -L unit): every tracked C, C++ and CUDA source is formatted
# as the repository's .clang-format says.
#   cmake -DSOURCE_DIR=<repository> -DCLANG_FORMAT=<clang-format> -P check_format.cmake
# Outside a git checkout (a source archive) there is no list of tracked files: the
# check says so and ctest counts it skipped.
cmake_minimum_required(VERSION 3.25)
find_package(Git QUIET)
if(NOT GIT_FOUND)
  message("check_format: skipped: git not found")
  return()
endif()
execute_process(
  COMMAND ${GIT_EXECUTABLE} ls-files -- *.c *.cpp *.hpp *.h *.cu
  WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE files ERROR_QUIET
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message("check_format: skipped: ${SOURCE_DIR} is not a git checkout")
  return()
endif()
string(REPLACE "\n" ";" files "${files}")
list(LENGTH files count)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${files}
  WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_format: files above are not clang-formatted "
    "(fix: clang-format -i FILE, with ${CLANG_FORMAT})")
endif()
message(STATUS "check_format: ${count} files formatted")
