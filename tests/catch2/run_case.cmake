# Runs TEST_BINARY with the Catch2 test spec TEST_SPEC and fails unless it exits with
# EXPECTED_EXIT and its standard output matches every regular expression given after `--`.
# Catch2 writes to standard output and the validator logs to standard error, so a match proves
# the text is in Catch2's own report, not only in the log. Run with cmake -P.
execute_process(COMMAND ${TEST_BINARY} ${TEST_SPEC}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(everything "exit status: ${status}\n--- stdout:\n${out}\n--- stderr:\n${err}")
if(NOT status STREQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "expected exit status ${EXPECTED_EXIT}\n${everything}")
endif()

set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  set(argument "${CMAKE_ARGV${i}}")
  if(after_dashes AND NOT out MATCHES "${argument}")
    message(FATAL_ERROR "standard output does not match: ${argument}\n${everything}")
  endif()
  if(argument STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
message("${everything}")
