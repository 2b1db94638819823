// Compiled into every program that links lockdep in a -DLOCKDEP_SANITIZE=thread build (an
// INTERFACE source of the library). The tests and examples take locks in the wrong order on
// purpose, for the validator to report; ThreadSanitizer's own deadlock detector would report
// them as well and fail them. What TSan is there for is data races in the validator.
extern "C" const char* __tsan_default_options() {
  return "detect_deadlocks=0";
}
