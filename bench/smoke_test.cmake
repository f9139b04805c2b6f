# ctest bench_smoke: bnconform_bench --quick writes a report with a row for every
# kernel of a case, the intervals and verdicts, the accuracy column, the targets
# section and the plot; --kernel with a bad path is one line and exit 2; a kernel
# that declares no operation gets its cases marked unsupported.
# cmake -DBENCH=<bnconform_bench> -DOUTPUT=<report file> [-DNO_OPERATION_KERNEL=<.so>]
#   -P smoke_test.cmake
get_filename_component(output_dir ${OUTPUT} DIRECTORY)
get_filename_component(output_stem ${OUTPUT} NAME_WE)
set(plot ${output_dir}/${output_stem}.svg)
file(REMOVE ${OUTPUT} ${plot})
execute_process(COMMAND ${BENCH} --quick --threads 2 --filter "256x256 nc f32" --output ${OUTPUT}
                RESULT_VARIABLE result ERROR_VARIABLE progress)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "bnconform_bench --quick failed (${result}):\n${progress}")
endif()
file(READ ${OUTPUT} report)
foreach(expected
    "# Side-by-side benchmark"
    "- reproduce: `[^`]*bnconform_bench --quick --threads 2"
    "- STREAM triad: [0-9.]+ GB/s"
    "- last-level cache: [0-9.]+ MiB \\("
    "- plot: \\[${output_stem}.svg\\]"
    "\\| 256x256 nc f32 forward-train \\| cache \\| cpu \\| [0-9.]+ \\|"
    "\\| 256x256 nc f32 backward \\| cache \\| cpu \\| [0-9.]+ \\|"
    "\\| [0-9.]+ \\[[0-9.]+, [0-9.]+\\] (faster|tie|slower) \\|"
    "\\| pass \\("
    "## Targets"
    "- against the best peer: [0-9]+ faster, [0-9]+ tie, [0-9]+ slower of [0-9]+ cases")
  if(NOT report MATCHES "${expected}")
    message(FATAL_ERROR "the report lacks '${expected}':\n${report}")
  endif()
endforeach()
if(NOT progress MATCHES "\\[pass 2/2, 3/3, [0-9]+ s\\] 256x256 nc f32 backward:")
  message(FATAL_ERROR "no progress line for the last case on stderr:\n${progress}")
endif()
file(READ ${plot} svg)
if(NOT svg MATCHES "^<svg .*<circle .*</svg>")
  message(FATAL_ERROR "no plot with a mark at ${plot}:\n${svg}")
endif()
# A bad filter is a usage error (exit 2) with one line on stderr.
execute_process(COMMAND ${BENCH} --quick --filter "(" RESULT_VARIABLE bad ERROR_VARIABLE why
                OUTPUT_QUIET)
if(NOT bad EQUAL 2 OR NOT why MATCHES "bad --filter")
  message(FATAL_ERROR "--filter '(' gave ${bad}: ${why}")
endif()
# So is a kernel library that does not exist: one line, before any measuring.
execute_process(COMMAND ${BENCH} --quick --kernel /no/such/kernel.so RESULT_VARIABLE bad
                ERROR_VARIABLE why OUTPUT_QUIET)
string(STRIP "${why}" why)
if(NOT bad EQUAL 2 OR NOT why MATCHES "^bnconform_bench: error: --kernel /no/such/kernel.so: "
   OR why MATCHES "\n")
  message(FATAL_ERROR "--kernel /no/such/kernel.so gave ${bad}: ${why}")
endif()
# A kernel that declares no operation: every case of it unsupported, the peers timed.
if(NO_OPERATION_KERNEL)
  execute_process(COMMAND ${BENCH} --quick --no-accuracy --kernel ${NO_OPERATION_KERNEL}
                  --filter "256x256 nc f32 forward-(train|eval)" RESULT_VARIABLE result
                  OUTPUT_VARIABLE report ERROR_VARIABLE progress)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "--kernel ${NO_OPERATION_KERNEL} failed (${result}):\n${progress}")
  endif()
  foreach(expected
      "\\| 256x256 nc f32 forward-train \\| cache \\| [a-z_-]+ \\| unsupported: forward in train mode is not declared"
      "\\| 256x256 nc f32 forward-eval \\| cache \\| [a-z_-]+ \\| unsupported: forward in eval mode is not declared"
      "\\| 256x256 nc f32 forward-eval \\| cache \\| cpu \\| [0-9.]+ \\|")
    if(NOT report MATCHES "${expected}")
      message(FATAL_ERROR "the report for a kernel with no operation lacks '${expected}':\n${report}")
    endif()
  endforeach()
endif()
message(STATUS "bench smoke test passed")
