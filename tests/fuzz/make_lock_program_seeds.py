#!/usr/bin/env python3
"""Writes the lock program fuzzer's seed corpus (corpus/lock_program/): one small program per
rule of the model, in the input format of lock_program.hpp. Run it again after changing that
format: python3 tests/fuzz/make_lock_program_seeds.py"""
import pathlib

VERBS = {"acquire": 0, "release": 3, "destroy": 5, "query": 6, "might_lock": 7}
ACCESS = {"x": 0, "r": 1, "R": 2, "any": 3}  # exclusive, shared, shared_recursive; "any": a query without one
FLAGS = {"": 0, "try": 5, "nocheck": 6, "try,nocheck": 7}
SUBCLASS = {0: 0, 1: 5, 2: 6, 8: 7}     # bits 5-7 of the second byte
DEPTHS = {3: 0, 6: 1, 12: 2, 48: 3}


def program(ops, threads=1, locks=4, keep_going=False, depth=48):
    """ops: (thread, verb, lock[, access[, flags[, subclass]]]) tuples."""
    data = bytearray([int(keep_going) | (threads - 1) << 1 | (locks - 1) << 3 | DEPTHS[depth] << 6])
    for op in ops:
        thread, verb, lock, access, flags, subclass = tuple(op) + ("x", "", 0)[len(op) - 3:]
        data.append(VERBS[verb] | lock << 3 | thread << 6)
        data.append(ACCESS[access] | FLAGS[flags] << 2 | SUBCLASS[subclass] << 5)
    return bytes(data)


def lock(thread, *locks_taken, access="x"):
    return [(thread, "acquire", held, access) for held in locks_taken]


def unlock(thread, *locks_released):
    return [(thread, "release", held) for held in locks_released]


SEEDS = {
    "abba_two_threads": program(lock(0, 0, 1) + unlock(0, 1, 0) + lock(1, 1, 0), threads=2),
    "abba_keep_going": program(lock(0, 0, 1) + unlock(0, 1, 0) + lock(0, 1, 0) + unlock(0, 0, 1)
                               + lock(0, 1, 0) + unlock(0, 0, 1), keep_going=True),
    "three_thread_cycle": program(lock(0, 0, 1) + unlock(0, 1, 0) + lock(1, 1, 2)
                                  + unlock(1, 2, 1) + lock(2, 2, 0), threads=3),
    "recursive_locking": program(lock(0, 0, 0)),
    "recursive_read_allowed": program(lock(0, 0, access="r") + lock(0, 0, access="R")
                                      + unlock(0, 0, 0) + lock(0, 0, access="r")
                                      + lock(0, 0, access="r")),
    "bad_unlock": program(lock(0, 1) + unlock(0, 0)),
    "unlock_on_other_thread": program(lock(0, 0) + unlock(1, 0), threads=2, keep_going=True),
    "held_lock_freed": program(lock(0, 0, 1, 2) + [(0, "destroy", 1)] + unlock(0, 2, 0),
                               keep_going=True),
    "destroy_forgets_class": program(lock(0, 0, 1) + unlock(0, 1, 0) + [(1, "destroy", 0)]
                                     + lock(1, 1, 0), threads=2),
    "out_of_order_release": program(lock(0, 2, 0) + unlock(0, 0, 2) + lock(0, 0)
                                    + [(0, "acquire", 1, "R")] + lock(0, 2) + unlock(0, 1, 2, 0)),
    "nested_subclass": program([(0, "acquire", 0), (0, "acquire", 0, "x", "", 1)]
                               + unlock(0, 0, 0)
                               + [(0, "acquire", 0, "x", "", 1), (0, "acquire", 0)]),
    "invalid_subclass": program([(0, "acquire", 0, "x", "", 8)]),
    "depth_overflow": program(lock(0, 0, 1, 2, 3), depth=3),
    "trylock_records_nothing": program([(0, "acquire", 0), (0, "acquire", 1, "x", "try")]
                                       + unlock(0, 1, 0) + lock(0, 1, 0)),
    "unchecked_takes_no_part": program([(0, "acquire", 0, "x", "nocheck")] + lock(0, 1)
                                       + unlock(0, 1, 0) + lock(0, 1, 0)),
    "read_read_cycle": program(lock(0, 0, 1, access="R") + unlock(0, 1, 0) + lock(1, 1, 0, access="R"),
                               threads=2),
    "shared_read_cycle": program(lock(0, 0, access="r") + lock(0, 1) + unlock(0, 1, 0)
                                 + lock(1, 1, access="r") + lock(1, 0), threads=2),
    "locks_held_at_exit": program(lock(1, 0, 1) + lock(0, 2), threads=2, keep_going=True),
    "queries": program(lock(0, 0, access="r") + [(0, "query", 0, "x"), (0, "query", 0, "r"),
                                                 (0, "query", 1, "R"), (1, "query", 0, "x")]
                       + [(0, "query", 0, "any")], threads=2),
    "might_lock_inversion": program(lock(0, 1) + [(0, "might_lock", 0)] + unlock(0, 1)
                                    + lock(0, 0, 1)),
    "keep_going_many": program(lock(0, 0, 1) + unlock(0, 1, 0) + lock(1, 1, 0) + unlock(1, 0, 1)
                               + lock(0, 2, 3) + unlock(0, 3, 2) + lock(1, 3, 2) + lock(1, 3)
                               + unlock(1, 3, 3, 2) + unlock(0, 0), threads=2, keep_going=True,
                               locks=8),
}

directory = pathlib.Path(__file__).parent / "corpus" / "lock_program"
directory.mkdir(parents=True, exist_ok=True)
for name, data in SEEDS.items():
    (directory / name).write_bytes(data)
