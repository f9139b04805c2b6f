# Fails when a variant's object file defines a weak (mergeable) C++ symbol outside
# the variant's own namespace: the linker would keep one definition for all the
# variants, so one instruction set's code would run in place of another's.
# cmake -DOBJECTS=<objects> -DNAMESPACE=<inline namespace> -P check_variant_symbols.cmake
# A symbol that nm cannot demangle (some long nested-lambda instantiations) stays
# mangled; there the namespace appears as its length and name ("9x86_64_v4").
find_program(NM nm REQUIRED)
string(LENGTH "${NAMESPACE}" namespace_length)
foreach(object IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} -C --defined-only ${object} OUTPUT_VARIABLE symbols
                  RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "nm failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-f]+ [WV] " AND NOT line MATCHES "::${NAMESPACE}::"
       AND NOT line MATCHES "^[0-9a-f]+ [WV] _Z.*${namespace_length}${NAMESPACE}"
       AND NOT line MATCHES "DW.ref.__gxx_personality_v0")
      message(FATAL_ERROR "weak symbol outside namespace ${NAMESPACE} in ${object}:\n${line}")
    endif()
  endforeach()
endforeach()
message(STATUS "every weak symbol of ${OBJECTS} is in namespace ${NAMESPACE}")
