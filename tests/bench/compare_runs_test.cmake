# bench/compare_runs.py: two reports' verdicts compared case by case.
# cmake -DPYTHON=<python3> -DSCRIPT=<compare_runs.py> -DWORK_DIR=<dir> -P compare_runs_test.cmake
set(header "| case | data in | kernel | time (ms) | GB/s (min traffic) | % triad (two-pass) | vs best peer | vs best strict peer | accuracy, strict (worst ratio) |\n|---|---|---|---:|---:|---:|---|---|---|\n")
function(report name first second)
  file(WRITE ${WORK_DIR}/${name}.md "# Side-by-side benchmark\n\n${header}"
    "| 8x8 nchw f32 forward-train | cache | cpu | 0.010 | 1.0 | - | ${first} | ${first} | pass (0.01 y) |\n"
    "| 8x8 nchw f32 forward-train | cache | onednn | 0.012 | 1.0 | - | 1.00 |  | pass (0.01 y) |\n"
    "| 8x8 nchw f32 backward | cache | cpu | 0.010 | 1.0 | - | ${second} | - | pass (0.01 dx) |\n")
endfunction()
report(a "1.20 [1.10, 1.30] faster" "0.90 [0.85, 0.95] slower")
report(same "1.25 [1.12, 1.31] faster" "0.91 [0.86, 0.96] slower")
report(edge "1.02 [0.99, 1.05] tie" "0.90 [0.85, 0.95] slower")
report(contra "1.20 [1.10, 1.30] faster" "1.10 [1.05, 1.15] faster")
function(compare second expected_code expected_text)
  execute_process(COMMAND ${PYTHON} ${SCRIPT} ${WORK_DIR}/a.md ${second}
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected_code OR NOT "${out}${err}" MATCHES "${expected_text}")
    message(FATAL_ERROR "compare_runs.py a.md ${second}: exit ${code}, wanted ${expected_code} "
      "and '${expected_text}':\n${out}${err}")
  endif()
endfunction()
compare(${WORK_DIR}/same.md 0 "contradictions: 0\ntie in one run only: 0\nthe same verdict: 3")
compare(${WORK_DIR}/edge.md 0 "tie in one run only: 2\n.*8x8 nchw f32 forward-train, vs best peer: 1.20 \\[1.10, 1.30\\] faster \\| 1.02")
compare(${WORK_DIR}/contra.md 1 "contradictions: 1\n  8x8 nchw f32 backward, vs best peer: 0.90")
compare(${WORK_DIR}/missing.md 2 "compare_runs.py: error: .*missing.md")
message(STATUS "compare_runs.py test passed")
