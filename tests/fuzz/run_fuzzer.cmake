# Runs one fuzzer for a fixed time on a scratch copy of its seed corpus, so that new inputs do
# not land in the source tree (ctest's fuzz_* tests; see CMakeLists.txt for the arguments).
# A failing input is written to WORK_DIR, whose path the failure message gives.
foreach(argument FUZZER CORPUS WORK_DIR SECONDS MAX_LEN)
  if(NOT DEFINED ${argument})
    message(FATAL_ERROR "run_fuzzer.cmake needs -D${argument}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus)
file(GLOB seeds ${CORPUS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORK_DIR}/corpus)
endif()

execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -max_len=${MAX_LEN}
          -print_final_stats=1 -artifact_prefix=${WORK_DIR}/ ${WORK_DIR}/corpus
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${status}); its failing input is in ${WORK_DIR}/")
endif()
