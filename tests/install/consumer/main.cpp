// An ABBA inversion: exits 1 when the validator reported it, 0 when validation is compiled out.
#include <lockdep/lockdep.hpp>
#include <lockdep/mm/gfp.hpp>

int main() {
  lockdep::mutex a{"A"}, b{"B"};
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
  b.lock();
  a.lock();
  a.unlock();
  b.unlock();
  static_assert(lockdep::mm::GFP_KERNEL == 0xcc0u);
  return lockdep::report_count() > 0 ? 1 : 0;
}
