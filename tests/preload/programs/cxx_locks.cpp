// The C++ standard library's locks reach the pthread functions: std::mutex, std::recursive_mutex,
// std::shared_mutex, std::timed_mutex, std::scoped_lock (std::lock's try-and-back-off) and
// std::condition_variable used correctly: nothing reported. With argument "abba", a std::mutex
// inversion follows and is reported.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace {

std::mutex a, b;
std::recursive_mutex recursive;
std::shared_mutex shared;
std::timed_mutex timed;

void correct_use() {
  { std::scoped_lock both(a, b); }
  std::thread other([] { std::scoped_lock both(b, a); });  // std::lock orders them safely
  other.join();
  {
    std::lock_guard outer(recursive);
    std::lock_guard inner(recursive);
  }
  {
    std::shared_lock reader(shared);
    std::lock_guard inner(a);
  }
  { std::unique_lock writer(shared); }
  if (timed.try_lock_for(std::chrono::milliseconds(10))) timed.unlock();

  std::mutex queue_lock;
  std::condition_variable ready;
  int produced = 0;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      std::lock_guard guard(queue_lock);
      ++produced;
      ready.notify_one();
    }
  });
  {
    std::unique_lock guard(queue_lock);
    ready.wait(guard, [&] { return produced == 100; });
    ready.wait_for(guard, std::chrono::milliseconds(5));
  }
  producer.join();
}

}  // namespace

int main(int argc, char** argv) {
  correct_use();
  std::puts("standard locks: done");
  std::fflush(stdout);
  if (argc > 1 && std::strcmp(argv[1], "abba") == 0) {
    {
      std::lock_guard first(a);
      std::lock_guard second(b);
    }
    {
      std::lock_guard first(b);
      std::lock_guard second(a);
    }
  }
  return 0;
}
