// A program that creates, locks and destroys locks forever stays within bounded memory: each
// destroyed lock's class, dependencies and chains are forgotten and their slots reused.
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "lockdep/lockdep.hpp"
#include "lockdep/state.hpp"
#include "lockdep/testing.hpp"

namespace {

// The process's peak resident set (VmHWM), in KiB.
std::size_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string field;
  while (status >> field) {
    if (field == "VmHWM:") {
      std::size_t kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

// Sanitizers keep freed memory in quarantine and shadow it, so RSS says nothing about the
// validator under them: the cycles still run (for the sanitizer's checks), the bound is not
// asserted.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool rss_is_meaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool rss_is_meaningful = false;
#else
constexpr bool rss_is_meaningful = true;
#endif
#else
constexpr bool rss_is_meaningful = true;
#endif

// Sixteen locks live at a time. One cycle destroys the oldest and creates a lock of its own
// class in its place, then takes it under `outer` and over the previous newest lock: new
// classes, dependencies and chains each cycle, with slots freed in an order that is not
// simply last-in first-out.
class lock_ring {
 public:
  explicit lock_ring(lockdep::mutex& outer) : outer_(outer) {}

  void cycle() {
    std::unique_ptr<lockdep::mutex>& oldest = ring_[next_ % ring_.size()];
    const std::unique_ptr<lockdep::mutex>& newest = ring_[(next_ + ring_.size() - 1) % ring_.size()];
    oldest = std::make_unique<lockdep::mutex>();
    std::lock_guard first(outer_);
    std::lock_guard second(*oldest);
    if (newest != nullptr) std::lock_guard third(*newest);
    ++next_;
  }

 private:
  lockdep::mutex& outer_;
  std::array<std::unique_ptr<lockdep::mutex>, 16> ring_;
  std::size_t next_ = 0;
};

}  // namespace

TEST_CASE("a million create/lock/destroy cycles stay within bounded memory", "[capacity][reuse]") {
  // Tables smaller than a million cycles need: without reuse, a capacity report.
  lockdep::options small = lockdep::current_options();
  small.max_classes = 1000;
  small.max_dependencies = 1000;
  small.max_chains = 1000;
  lockdep::testing::report_capture capture(small);
  lockdep::mutex outer{"outer"};
  lock_ring locks(outer);

  constexpr std::size_t warm_up_cycles = 10'000;
  constexpr std::size_t cycles = 1'000'000;
  for (std::size_t i = 0; i < warm_up_cycles; ++i) locks.cycle();
  std::size_t warm_peak = peak_rss_kib();
  for (std::size_t i = warm_up_cycles; i < cycles; ++i) locks.cycle();
  std::size_t final_peak = peak_rss_kib();

  INFO((capture.empty() ? std::string("no report") : capture.reports().front().kernel_text()));
  REQUIRE(capture.empty());
  lockdep::validator_stats stats = lockdep::snapshot().stats;
  // Outer and the ring's sixteen; every other class was forgotten with its dependencies.
  CHECK(stats.lock_classes == 17);
  CHECK(stats.direct_dependencies <= 16 + 15);
  // The bound: 1 MiB over the peak after the first ten thousand cycles, by when every table has
  // grown to its working size. Keeping even 4 bytes a cycle would add almost 4 MiB.
  INFO("peak RSS after " << warm_up_cycles << " cycles: " << warm_peak << " KiB, after " << cycles
                         << ": " << final_peak << " KiB");
  if (rss_is_meaningful) CHECK(final_peak <= warm_peak + 1024);
}
