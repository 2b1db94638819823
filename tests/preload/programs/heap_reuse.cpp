// Short-lived objects that own a std::mutex, each taken with one long-lived lock in one order
// only, but the order alternating from object to object. std::mutex's destructor never calls
// pthread_mutex_destroy, so only the watch of deallocations tells the validator that the next
// object at the same address is a new lock: without it the second object inherits the first's
// order and a false cycle is reported. Covers delete (sized), delete[], unsized operator delete,
// std::shared_ptr's control block and std::unique_ptr.
//
// Argument: one case (delete, delete[], unsized, shared_ptr, unique_ptr), or none for all; "held"
// deletes an object while its mutex is held instead, which is reported as a held lock freed.
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

namespace {

std::mutex stats;

struct connection {
  std::mutex lock;
  long requests = 0;
};

// Even rounds take stats -> connection.lock, odd rounds connection.lock -> stats.
void serve(connection& served, int round) {
  if (round % 2 == 0) {
    std::lock_guard outer(stats);
    std::lock_guard inner(served.lock);
    ++served.requests;
  } else {
    std::lock_guard outer(served.lock);
    std::lock_guard inner(stats);
    ++served.requests;
  }
}

[[gnu::noinline]] void destroy_held_connection() {
  auto* doomed = new connection;
  doomed->lock.lock();
  delete doomed;  // held lock freed
}

// Each case alone, or all with no argument.
bool runs(int argc, char** argv, const char* name) {
  return argc < 2 || std::strcmp(argv[1], name) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (runs(argc, argv, "delete")) {
    for (int round = 0; round < 10; ++round) {
      auto* single = new connection;
      serve(*single, round);
      delete single;
    }
  }
  if (runs(argc, argv, "delete[]")) {
    for (int round = 0; round < 10; ++round) {
      auto* several = new connection[3];
      for (int i = 0; i < 3; ++i) serve(several[i], round);
      delete[] several;
    }
  }
  if (runs(argc, argv, "unsized")) {
    for (int round = 0; round < 10; ++round) {
      void* storage = ::operator new(sizeof(connection));
      auto* placed = new (storage) connection;
      serve(*placed, round);
      placed->~connection();
      ::operator delete(storage);
    }
  }
  if (runs(argc, argv, "shared_ptr")) {
    for (int round = 0; round < 10; ++round) {
      auto shared = std::make_shared<connection>();
      serve(*shared, round);
    }
  }
  if (runs(argc, argv, "unique_ptr")) {
    for (int round = 0; round < 10; ++round) {
      auto unique = std::make_unique<connection>();
      serve(*unique, round);
    }
  }
  if (argc > 1 && std::strcmp(argv[1], "held") == 0) destroy_held_connection();
  std::puts("done");
  return 0;
}
