// The preload library's start-up: runs as a shared-library constructor, after the validator's
// own static objects (its sources come first in the link), before the program's constructors.
//
//   1. resolves the real pthread functions (real_functions.hpp);
//   2. reads the preload's LOCKDEP_OPTIONS keys (preload_options.hpp) and has the validator parse
//      the rest, with the preload's entries blanked, so it does not call them unknown;
//   3. creates the report logger and, under lockdep-run, the report marker (report_marker.hpp);
//   4. registers the fork handlers (thread_lifecycle.hpp);
//   5. sets preload_ready: from then on the interposers validate. Before, they only forward.
//
// Thread-safety: preload_config() may be called from any thread once preload_ready is set.
#pragma once

#include "preload_options.hpp"

namespace lockdep::preload {

// The preload's options, as read at start-up.
const preload_options& preload_config();

}  // namespace lockdep::preload
