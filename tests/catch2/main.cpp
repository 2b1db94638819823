// The test binary's main, and the one line that turns validator reports into test failures.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <lockdep/catch2.hpp>
