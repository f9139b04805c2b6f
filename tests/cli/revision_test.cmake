# cmake/Revision.cmake as a build runs it: the source tree's own commit hash, and
# "unknown" for sources that are not a git checkout of their own (a tarball,
# unpacked here inside the build tree, itself inside a checkout). And the file is
# left alone when the revision has not changed, so nothing rebuilds.
# -DSOURCE_DIR=<the repository> -DWORK_DIR=<scratch>
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/tarball")

execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK_DIR}/tarball
  -DOUTPUT=${WORK_DIR}/tarball.cpp -P ${SOURCE_DIR}/cmake/Revision.cmake RESULT_VARIABLE rc)
file(READ "${WORK_DIR}/tarball.cpp" text)
if(NOT rc EQUAL 0 OR NOT text MATCHES "return \"unknown\";")
  message(FATAL_ERROR "outside a checkout of its own: expected \"unknown\", got:\n${text}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${SOURCE_DIR}
  -DOUTPUT=${WORK_DIR}/source.cpp -P ${SOURCE_DIR}/cmake/Revision.cmake RESULT_VARIABLE rc)
file(READ "${WORK_DIR}/source.cpp" text)
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse HEAD
    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR NOT text MATCHES "return \"${head}(-dirty)?\";")
    message(FATAL_ERROR "in the checkout: expected ${head}, got:\n${text}")
  endif()
endif()

file(TIMESTAMP "${WORK_DIR}/source.cpp" before "%s")
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1)
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${SOURCE_DIR}
  -DOUTPUT=${WORK_DIR}/source.cpp -P ${SOURCE_DIR}/cmake/Revision.cmake)
file(TIMESTAMP "${WORK_DIR}/source.cpp" after "%s")
if(NOT before STREQUAL after)
  message(FATAL_ERROR "an unchanged revision rewrote the file (${before} -> ${after})")
endif()
