# ctest bench_smoke: bnconform_bench --quick writes a report with a row for every
# kernel of a case, the accuracy column and the targets section.
# cmake -DBENCH=<bnconform_bench> -DOUTPUT=<report file> -P smoke_test.cmake
execute_process(COMMAND ${BENCH} --quick --threads 2 --filter "256x256 nc f32" --output ${OUTPUT}
                RESULT_VARIABLE result ERROR_VARIABLE progress)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "bnconform_bench --quick failed (${result}):\n${progress}")
endif()
file(READ ${OUTPUT} report)
foreach(expected
    "# Side-by-side benchmark"
    "- STREAM triad: [0-9.]+ GB/s"
    "\\| 256x256 nc f32 forward-train \\| cpu \\| [0-9.]+ \\|"
    "\\| 256x256 nc f32 backward \\| cpu \\| [0-9.]+ \\|"
    "\\| pass \\("
    "## Targets"
    "- faster than the best peer: [0-9]+ of [0-9]+ cases")
  if(NOT report MATCHES "${expected}")
    message(FATAL_ERROR "the report lacks '${expected}':\n${report}")
  endif()
endforeach()
if(NOT progress MATCHES "\\[3/3, [0-9]+ s\\] 256x256 nc f32 backward:")
  message(FATAL_ERROR "no progress line for the last case on stderr:\n${progress}")
endif()
# A bad filter is a usage error (exit 2) with one line on stderr.
execute_process(COMMAND ${BENCH} --quick --filter "(" RESULT_VARIABLE bad ERROR_VARIABLE why
                OUTPUT_QUIET)
if(NOT bad EQUAL 2 OR NOT why MATCHES "bad --filter")
  message(FATAL_ERROR "--filter '(' gave ${bad}: ${why}")
endif()
message(STATUS "bench smoke test passed")
