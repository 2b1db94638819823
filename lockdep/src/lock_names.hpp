// Names for the classes of locks the program gave no name (see unnamed_lock in report.hpp),
// chosen when a report is delivered: the variable holding the lock when it is in static storage,
// else the source line that initialised or first locked it.
#pragma once

#include "lockdep/report.hpp"

namespace lockdep::detail {

// Renames every class in `named` that has a name source: acquiring, holding, the held locks,
// the dependency chain and the hung-task listing, each class the same way wherever it appears.
// Two locks that would get one name are told apart with the kernel's `#2`, `#3` in the order
// they first appear; a `/N` subclass suffix is kept. The frames must be symbolized already
// (first_used_at included). Symbolizes variables: no validator lock may be held.
void name_unnamed_locks(report& named);

// Whether some class in `candidate` will be named by name_unnamed_locks.
bool has_unnamed_locks(report& candidate);

}  // namespace lockdep::detail
