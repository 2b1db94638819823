// The programs of the lock program fuzzer: how fuzz input bytes decode into lock events on a
// few threads' held-lock stacks, and the listing printed when the validator and the model
// disagree. Every byte string decodes to a valid program, so no mutation is wasted.
//
// Input: one header byte, then two bytes per operation (at most max_ops; the rest is ignored).
//   header     bit 0: keep_going; bits 1-2: threads (1 + value % 3); bits 3-5: locks (1 + value);
//              bits 6-7: the held-lock depth limit (depth_limits)
//   op byte 0  bits 0-2: verb (verb_codes); bits 3-5: lock (% locks); bits 6-7: thread (% threads)
//   op byte 1  bits 0-1: access (exclusive, shared, shared_recursive, exclusive);
//              bits 2-4: flags (0-4 none, 5 trylock, 6 unchecked, 7 both);
//              bits 5-7: subclass (0-4: 0, 5: 1, 6: 2, 7: 8, which is invalid)
// A query reads its access from bits 0-1 too, 3 meaning "any" (lock_held_state without one);
// so does destroy: exclusive rebuilds the lock in place, the others free it and allocate anew.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lockdep/report.hpp"
#include "random_lock_program.hpp"  // tests/unit: access_name

namespace lockdep_fuzz {

using lockdep::lock_access;
using lockdep_differential::access_name;

// Enough for cycles through every class and for out-of-order releases of deep stacks, few
// enough that running a program costs about what setting it up does (two validator resets
// and a thread per program thread).
constexpr std::size_t max_ops = 64;
constexpr unsigned max_threads = 3;
constexpr unsigned max_locks = 8;
constexpr std::array<unsigned, 4> depth_limits = {3, 6, 12, 48};
constexpr std::array<const char*, max_locks> lock_names = {"L0", "L1", "L2", "L3",
                                                           "L4", "L5", "L6", "L7"};

enum class verb {
  acquire,     // lock_acquire with the op's access, flags and subclass
  release,     // lock_release
  destroy,     // destroy the lock_map, then construct a new one: in its place (exclusive access),
               // or in new memory (other accesses), the old one's freed
  query,       // lock_held_state, with or without an access
  might_lock,  // might_lock with the op's access
};
constexpr std::array<verb, 8> verb_codes = {verb::acquire, verb::acquire,   verb::acquire,
                                            verb::release, verb::release,   verb::destroy,
                                            verb::query,   verb::might_lock};

struct lock_op {
  verb kind = verb::acquire;
  unsigned thread = 0;
  unsigned lock = 0;
  unsigned subclass = 0;
  lock_access access = lock_access::exclusive;
  bool trylock = false;
  bool checked = true;
  bool query_any_access = false;  // query: lock_held_state(map) rather than (map, access)
};

struct lock_program {
  bool keep_going = false;
  unsigned threads = 1;
  unsigned locks = 1;
  unsigned depth_limit = depth_limits.back();
  std::vector<lock_op> ops;
};

inline lock_program decode_lock_program(const std::uint8_t* data, std::size_t size) {
  lock_program decoded;
  if (size == 0) return decoded;
  std::uint8_t header = data[0];
  decoded.keep_going = (header & 1) != 0;
  decoded.threads = 1 + (header >> 1 & 3) % max_threads;
  decoded.locks = 1 + (header >> 3 & 7);
  decoded.depth_limit = depth_limits[header >> 6];
  for (std::size_t at = 1; at + 1 < size && decoded.ops.size() < max_ops; at += 2) {
    std::uint8_t what = data[at];
    std::uint8_t how = data[at + 1];
    lock_op op;
    op.kind = verb_codes[what & 7];
    op.lock = (what >> 3 & 7) % decoded.locks;
    op.thread = (what >> 6) % decoded.threads;
    unsigned access = how & 3;
    op.access = access == 3 ? lock_access::exclusive : static_cast<lock_access>(access);
    op.query_any_access = access == 3;
    unsigned flags = how >> 2 & 7;
    op.trylock = flags == 5 || flags == 7;
    op.checked = flags != 6 && flags != 7;
    unsigned subclass = how >> 5;
    op.subclass = subclass <= 4 ? 0 : subclass == 7 ? 8 : subclass - 4;
    decoded.ops.push_back(op);
  }
  return decoded;
}

inline std::string op_text(const lock_op& op) {
  std::string text = "T" + std::to_string(op.thread) + " ";
  std::string lock = lock_names[op.lock];
  switch (op.kind) {
    case verb::acquire:
      text += "acquire " + lock + " " + access_name(op.access);
      if (op.subclass != 0) text += " subclass " + std::to_string(op.subclass);
      if (op.trylock) text += " trylock";
      if (!op.checked) text += " unchecked";
      return text;
    case verb::release:
      return text + "release " + lock;
    case verb::destroy:
      return text + "destroy " + lock + (op.access == lock_access::exclusive ? "" : " and free");
    case verb::query:
      return text + "query " + lock +
             (op.query_any_access ? "" : " " + std::string(access_name(op.access)));
    case verb::might_lock:
      return text + "might_lock " + lock + " " + access_name(op.access);
  }
  return text;
}

// `skipped[i]`: the op was not run (see lock_program_model::runnable).
inline std::string listing(const lock_program& program, const std::vector<bool>& skipped) {
  std::string text = "program: " + std::to_string(program.threads) + " threads, " +
                     std::to_string(program.locks) + " locks, max_lock_depth " +
                     std::to_string(program.depth_limit) +
                     (program.keep_going ? ", keep_going" : "") + "\n";
  for (std::size_t i = 0; i < program.ops.size(); ++i) {
    text += "  #" + std::to_string(i) + " " + op_text(program.ops[i]);
    if (i < skipped.size() && skipped[i]) text += "  (skipped)";
    text += "\n";
  }
  return text;
}

}  // namespace lockdep_fuzz
