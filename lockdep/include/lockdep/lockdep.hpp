// Everything: the lock types, keys, pseudo-lock maps, the runtime API and reports.
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/guard.hpp"
#include "lockdep/lock_class_key.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/mutex.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "lockdep/report_subscription.hpp"
#include "lockdep/shared_mutex.hpp"
#include "lockdep/spinlock.hpp"
#include "lockdep/state.hpp"
#include "lockdep/suppressions.hpp"
#include "lockdep/validator.hpp"
