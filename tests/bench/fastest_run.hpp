// The "min" statistic for repeated benchmarks: this machine's runs swing (the same binary can
// measure twice as slow for a minute, both sides of a comparison together), and noise only ever
// adds time, so the fastest repetition is the steadiest figure. Run with
//   --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
// so that the repetitions of the cases being compared alternate through the same minutes, and
// read the `_min` rows' times (their rate counters are the slowest run's: ignore those).
#pragma once

#include <algorithm>
#include <vector>

namespace lockdep_bench {

inline double fastest(const std::vector<double>& runs) {
  return runs.empty() ? 0.0 : *std::min_element(runs.begin(), runs.end());
}

}  // namespace lockdep_bench
