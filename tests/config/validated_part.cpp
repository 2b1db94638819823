// The validated half of zero_cost_test.cpp's program.
#include <cstddef>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"

static_assert(LOCKDEP_ENABLED == 1);

std::size_t validated_mutex_size() {
  return sizeof(lockdep::mutex);
}

bool validated_part_reports_abba() {
  lockdep::testing::report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
  b.lock();
  a.lock();
  a.unlock();
  b.unlock();
  return capture.count() == 1;
}
