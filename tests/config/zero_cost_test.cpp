// With LOCKDEP_ENABLED=0 (this file only) every lock type is its standard counterpart, with
// its exact size, and every annotation compiles to nothing. validated_part.cpp, linked into the
// same program, uses the validated types: both coexist without clashing.
#define LOCKDEP_ENABLED 0
#include <catch2/catch.hpp>

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <type_traits>

#include "lockdep/guard.hpp"
#include "lockdep/lockdep.hpp"

static_assert(sizeof(lockdep::mutex) == sizeof(std::mutex));
static_assert(sizeof(lockdep::recursive_mutex) == sizeof(std::recursive_mutex));
static_assert(sizeof(lockdep::timed_mutex) == sizeof(std::timed_mutex));
static_assert(sizeof(lockdep::shared_mutex) == sizeof(std::shared_mutex));
static_assert(sizeof(lockdep::spinlock) == sizeof(std::atomic<bool>));
static_assert(sizeof(lockdep::rwlock) == sizeof(pthread_rwlock_t));
static_assert(std::is_empty_v<lockdep::lock_map>);
static_assert(std::is_empty_v<lockdep::lock_class_key>);
static_assert(std::is_base_of_v<std::mutex, lockdep::mutex>);
static_assert(std::is_base_of_v<std::shared_mutex, lockdep::shared_mutex>);

// Constant-initialized, as std::mutex is.
constinit lockdep::mutex global_mutex;
constinit lockdep::spinlock global_spinlock;

std::size_t validated_mutex_size();  // validated_part.cpp
bool validated_part_reports_abba();

namespace {

struct delayed_node {
  lockdep::mutex mutex{LOCKDEP_CLASS("&delayed_node->mutex")};
  lockdep::shared_mutex sem{"sem"};
};

}  // namespace

TEST_CASE("unvalidated locks lock, and annotations do nothing", "[zero_cost]") {
  delayed_node node;
  lockdep::lock_map reclaim{"fs_reclaim"};
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 10000; ++i) {
      std::scoped_lock both(node.mutex, global_spinlock);
      ++counter;
    }
  };
  std::thread first(work), second(work);
  first.join();
  second.join();
  CHECK(counter == 20000);

  // The same inversion the validated build would report: nothing happens here.
  {
    std::lock_guard held(node.mutex);
    std::lock_guard entering(reclaim);
  }
  {
    std::lock_guard entering(reclaim);
    lockdep::guard held(node.mutex);
    LOCKDEP_ASSERT_HELD(node.mutex);
    LOCKDEP_ASSERT_NOT_HELD(node.mutex);
  }
  LOCKDEP_ASSERT_HELD(node.mutex);  // not held: no report, no abort
  lockdep::might_lock(node.mutex.lockdep_map());
  CHECK_FALSE(lockdep::validation_enabled());
  CHECK(lockdep::report_count() == 0);

  std::condition_variable_any ready;
  bool flag = false;
  std::thread notifier([&] {
    std::lock_guard held(node.mutex);
    flag = true;
    ready.notify_one();
  });
  {
    std::unique_lock waiting(node.mutex);
    ready.wait(waiting, [&] { return flag; });
  }
  notifier.join();
  { std::shared_lock reading(node.sem); }
}

TEST_CASE("validated and unvalidated code link into one program", "[zero_cost]") {
  CHECK(validated_mutex_size() > sizeof(std::mutex));
  CHECK(validated_part_reports_abba());
}
