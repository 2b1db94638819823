// The preload's own LOCKDEP_OPTIONS keys (exitcode, preload_classes, watch_frees): read here,
// hidden from the validator's parser without moving the offsets of the other entries.
#include <catch2/catch.hpp>

#include "preload_options.hpp"

using lockdep::preload::class_mode;
using lockdep::preload::hide_preload_keys;
using lockdep::preload::preload_option_error;
using lockdep::preload::read_preload_options;

TEST_CASE("preload options: defaults and values", "[preload][options]") {
  CHECK(read_preload_options("").exitcode == 66);
  CHECK(read_preload_options("").classes == class_mode::per_instance);
  auto read = read_preload_options("keep_going=1:exitcode=3:preload_classes=callsite");
  CHECK(read.exitcode == 3);
  CHECK(read.classes == class_mode::per_callsite);
  CHECK(read_preload_options("exitcode=0").exitcode == 0);
  CHECK(read_preload_options("").watch_frees);
  CHECK_FALSE(read_preload_options("watch_frees=0").watch_frees);
  CHECK(read_preload_options("watch_frees=0:watch_frees=1").watch_frees);
}

TEST_CASE("preload options: malformed values are reported with their offset",
          "[preload][options]") {
  std::vector<preload_option_error> errors;
  auto read = read_preload_options("keep_going=1:exitcode=300:preload_classes=file", &errors);
  CHECK(read.exitcode == 66);
  CHECK(read.classes == class_mode::per_instance);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].position == 13);
  CHECK(errors[0].message == "'exitcode' expects an integer from 0 to 255");
  CHECK(errors[1].position == 26);
}

TEST_CASE("preload options: the validator sees blanks where the preload's keys were",
          "[preload][options]") {
  CHECK(hide_preload_keys("exitcode=7:keep_going=1") == ":::::::::::keep_going=1");
  CHECK(hide_preload_keys("keep_going=1:preload_classes=callsite:max_classes=9") ==
        "keep_going=1:" + std::string(24, ':') + ":max_classes=9");
  CHECK(hide_preload_keys("log_path=x") == "log_path=x");
  CHECK(hide_preload_keys("watch_frees=0:keep_going=1") == "::::::::::::::keep_going=1");
}

TEST_CASE("preload options: watch_frees takes 0 or 1", "[preload][options]") {
  std::vector<preload_option_error> errors;
  CHECK(read_preload_options("watch_frees=yes", &errors).watch_frees);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "'watch_frees' expects 0 or 1");
}
