// The first program: two global std::mutexes taken through std::lock_guard,
// std::scoped_lock and std::unique_lock in opposite orders by two threads, one after the other
// (nothing hangs). Built at -O0, -O1 and -O2: the report must name `inventory` and `orders`
// and show the marked lines whatever the optimisation. The test checks lines by number.
#include <memory>
#include <mutex>
#include <thread>

std::mutex inventory;
std::mutex orders;

struct connection {
  std::mutex lock;
  int requests = 0;
};

[[gnu::noinline]] void restock(connection& client) {
  std::lock_guard stock(inventory);         // line 18: inventory, then orders
  std::scoped_lock pending(orders);         // line 19
  std::lock_guard per_client(client.lock);  // line 20: a heap lock, never initialised
  ++client.requests;
}

[[gnu::noinline]] void ship(std::mutex& audit) {
  std::lock_guard audited(audit);    // line 25: a heap lock held when it is reported
  std::unique_lock pending(orders);  // line 26: orders, then inventory
  std::lock_guard stock(inventory);  // line 27: closes the cycle
}

int main() {
  auto client = std::make_unique<connection>();
  std::thread first([&] { restock(*client); });
  first.join();
  auto audit = std::make_unique<std::mutex>();
  std::thread second([&] { ship(*audit); });
  second.join();
  return 0;
}
