// Delivery: the second half of a report's way. issue() (report_builder.hpp) queues a report
// under the graph lock, as data with raw code addresses; once the lock is released,
// deliver_issued_reports() takes it through the rest, in this order: symbolization (frames,
// source lines, inlined calls), names for the locks the program did not name (lock_names.hpp),
// the report's id, the suppressions that need those, then the kernel text and the JSON line,
// then the listeners.
#pragma once

#include <memory>
#include <string>

#include "lockdep/report.hpp"
#include "lockdep/suppressions.hpp"

namespace lockdep::detail {

// A report waiting for delivery, with what delivery needs of the configuration, copied under the
// graph lock: delivery runs without it, while a testing reset may replace the configuration.
struct pending_report {
  report finished;
  // Suppressions need the report's final class names and symbolized frames, which exist only
  // once the graph lock is released: the report may still be suppressed then, and turns the
  // validator off only if not.
  bool check_suppressions = false;
  bool turn_off_if_kept = false;
  std::shared_ptr<const suppressions> rules;
  std::string json_log_path;
  bool abort_on_assert = false;
  text_options shown;  // how the printed text shows frames
};

// Queues `pending` for this thread's next deliver_issued_reports(). Graph lock held.
void queue_for_delivery(pending_report&& pending);

// Delivers the reports the calling thread issued, in order. The graph lock must not be held.
void deliver_issued_reports();

// In a fork child: the reports other threads were delivering are gone with those threads, so
// exit must not wait for them.
void forget_other_threads_deliveries();

// A stable identifier for de-duplication: the kind and the class names involved, without
// addresses, thread ids or timestamps.
std::string report_id(const report& finished);

}  // namespace lockdep::detail
