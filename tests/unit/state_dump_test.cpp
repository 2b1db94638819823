// Dumps of the learnt state (lockdep/state.hpp): the snapshot's classes, dependencies, chains,
// counters and reported cycles for programs whose lock order the test knows; the kernel's /proc
// layouts; DOT and JSON output with the cycle marked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include "json_syntax.hpp"
#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::testing::report_capture;

namespace {

std::size_t class_named(const lockdep::validator_state& state, const std::string& name) {
  for (std::size_t i = 0; i < state.classes.size(); ++i) {
    if (state.classes[i].name == name) return i;
  }
  FAIL("no class named " << name);
  return 0;
}

const lockdep::dependency_state* dependency(const lockdep::validator_state& state, std::size_t from,
                                            std::size_t to) {
  for (const lockdep::dependency_state& edge : state.dependencies) {
    if (edge.from == from && edge.to == to) return &edge;
  }
  return nullptr;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// a -> b -> c nested on one thread.
void lock_three_nested(lockdep::mutex& a, lockdep::mutex& b, lockdep::mutex& c) {
  a.lock();
  b.lock();
  c.lock();
  c.unlock();
  b.unlock();
  a.unlock();
}

std::string key_text(const void* key) {
  char text[32];
  std::snprintf(text, sizeof text, "%016lx", reinterpret_cast<unsigned long>(key));
  return text;
}

}  // namespace

TEST_CASE("a snapshot holds the classes, dependencies and chains a program made", "[state]") {
  report_capture capture;
  lockdep::mutex a{"state_a"}, b{"state_b"}, c{"state_c"}, unused{"state_unused"};
  lock_three_nested(a, b, c);
  lockdep::validator_state state = lockdep::snapshot();

  std::size_t ia = class_named(state, "state_a");
  std::size_t ib = class_named(state, "state_b");
  std::size_t ic = class_named(state, "state_c");
  CHECK(state.classes[ia].usage == "+.+.");
  CHECK(state.classes[ia].forward_reachable == 2);
  CHECK(state.classes[ia].backward_reachable == 0);
  CHECK(state.classes[ic].forward_reachable == 0);
  CHECK(state.classes[ic].backward_reachable == 2);

  // The kernel adds a dependency from the nearest held lock only: a -> c is implied.
  REQUIRE(state.dependencies.size() == 2);
  const lockdep::dependency_state* ab = dependency(state, ia, ib);
  REQUIRE(ab != nullptr);
  CHECK(ab->types == std::vector<std::string>{"EN"});
  CHECK(ab->distance == 1);
  CHECK_FALSE(ab->trace.empty());
  CHECK(dependency(state, ib, ic) != nullptr);
  CHECK(dependency(state, ia, ic) == nullptr);

  // Chains {a}, {a,b}, {a,b,c}.
  REQUIRE(state.chains.size() == 3);
  auto has_chain = [&](std::vector<std::size_t> classes) {
    return std::any_of(state.chains.begin(), state.chains.end(),
                       [&](const lockdep::chain_state& chain) { return chain.classes == classes; });
  };
  CHECK(has_chain({ia}));
  CHECK(has_chain({ia, ib}));
  CHECK(has_chain({ia, ib, ic}));

  const lockdep::validator_stats& stats = state.stats;
  CHECK(stats.lock_classes == 3);  // `unused` was never locked: it has no class yet
  CHECK(stats.direct_dependencies == 2);
  CHECK(stats.indirect_dependencies == 3);  // FD: a 2, b 1, c 0
  CHECK(stats.dependency_chains == 3);
  CHECK(stats.chain_hlocks == 6);
  CHECK(stats.max_locking_depth == 3);
  CHECK(stats.chain_lookup_misses == 3);
  CHECK(stats.cyclic_checks == 2);
  CHECK(stats.reports == 0);
  CHECK(stats.debug_locks);
  CHECK(state.reported_cycles.empty());

  CHECK(stats.chain_lookup_hits == 0);

  // Known chains add nothing, and are counted as cache hits.
  lock_three_nested(a, b, c);
  lockdep::validator_stats again = lockdep::snapshot().stats;
  CHECK(again.chain_lookup_misses == 3);
  CHECK(again.chain_lookup_hits == 3);
  // Other threads' hits count too, also once they have exited.
  std::thread([&] { lock_three_nested(a, b, c); }).join();
  CHECK(lockdep::snapshot().stats.chain_lookup_hits == 6);
}

TEST_CASE("/proc/lockdep, /proc/lockdep_chains and /proc/lockdep_stats layouts", "[state]") {
  report_capture capture;
  lockdep::mutex a{"proc_a"}, b{"proc_b"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep::validator_state state = lockdep::snapshot();
  const lockdep::class_state& ca = state.classes[class_named(state, "proc_a")];
  const lockdep::class_state& cb = state.classes[class_named(state, "proc_b")];

  std::string classes = lockdep::proc_lockdep(state);
  CHECK(classes.rfind("all lock classes:\n", 0) == 0);
  CHECK(contains(classes, key_text(ca.key) + " FD:    1 BD:    0 +.+.: proc_a\n -> [" +
                              key_text(cb.key) + "] proc_b\n\n"));
  CHECK(contains(classes, key_text(cb.key) + " FD:    0 BD:    1 +.+.: proc_b\n\n"));

  std::string chains = lockdep::proc_lockdep_chains(state);
  CHECK(chains.rfind("all lock chains:\n", 0) == 0);
  CHECK(contains(chains, "irq_context: 0\n[" + key_text(ca.key) + "] proc_a\n[" + key_text(cb.key) +
                             "] proc_b\n\n"));

  std::string stats = lockdep::proc_lockdep_stats(state);
  // A space, the label padded to 31 columns, the value right-aligned in 11.
  CHECK(contains(stats, " lock-classes:                            2 [max: 1048576]\n"));
  CHECK(contains(stats, " direct dependencies:                     1 [max: 2097152]\n"));
  CHECK(contains(stats, " dependency chains:                       2 [max: 2097152]\n"));
  CHECK(contains(stats, " max locking depth:                       2\n"));
  CHECK(contains(stats, " chain lookup misses:                     2\n"));
  CHECK(contains(stats, " chain lookup hits:                       0\n"));
  CHECK(contains(stats, " debug_locks:                             1\n"));
}

TEST_CASE("a reported cycle is marked in the snapshot, the DOT graph and the JSON", "[state]") {
  report_capture capture;
  lockdep::mutex a{"cycle_a"}, b{"cycle_b"}, c{"cycle_c"}, outside{"cycle_outside"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, c);
  lockdep_test::lock_unlock_2(outside, a);
  lockdep_test::lock_unlock_2(c, a);  // closes a -> b -> c -> a
  REQUIRE(capture.count() == 1);

  lockdep::validator_state state = lockdep::snapshot();
  std::size_t ia = class_named(state, "cycle_a");
  std::size_t ib = class_named(state, "cycle_b");
  std::size_t ic = class_named(state, "cycle_c");
  std::size_t io = class_named(state, "cycle_outside");
  // As the report's `Chain exists of:` line: the acquiring class first, the held one last.
  REQUIRE(state.reported_cycles.size() == 1);
  CHECK(state.reported_cycles[0] == std::vector<std::size_t>{ia, ib, ic});
  CHECK(dependency(state, ia, ib)->in_reported_cycle);
  CHECK(dependency(state, ib, ic)->in_reported_cycle);
  CHECK_FALSE(dependency(state, io, ia)->in_reported_cycle);
  CHECK(dependency(state, ic, ia) == nullptr);  // refused, not recorded
  CHECK(state.stats.reports == 1);
  CHECK_FALSE(state.stats.debug_locks);  // the validator turned itself off after the report

  std::string dot = lockdep::graph_dot(state);
  auto node = [](std::size_t index) { return "c" + std::to_string(index); };
  CHECK(dot.rfind("digraph lockdep {\n", 0) == 0);
  CHECK(contains(dot, "  " + node(ia) + " -> " + node(ib) + " [label=\"EN\", color=red"));
  CHECK(contains(dot, "  " + node(io) + " -> " + node(ia) + " [label=\"EN\"];\n"));
  CHECK(contains(dot, "  " + node(ic) + " -> " + node(ia) + " [label=\"refused: closes a cycle\""));
  CHECK(contains(dot, "  " + node(ia) + " [label=\"cycle_a\\n{+.+.}\", color=red"));
  CHECK(contains(dot, "  " + node(io) + " [label=\"cycle_outside\\n{+.+.}\"];\n"));

  std::string json = lockdep::graph_json(state);
  CHECK(lockdep_test::json_syntax::valid(json));
  CHECK(contains(json, "\"cycles\":[[" + std::to_string(ia) + "," + std::to_string(ib) + "," +
                           std::to_string(ic) + "]]"));
  CHECK(contains(json, "\"in_reported_cycle\":true"));
  CHECK(contains(json, "\"reports\":1"));
}

TEST_CASE("names that need quoting stay valid DOT and JSON", "[state]") {
  report_capture capture;
  lockdep::mutex odd{"we\"ird\\name\n\x01"}, plain{"plain"};
  lockdep_test::lock_unlock_2(odd, plain);
  lockdep::validator_state state = lockdep::snapshot();
  std::string json = lockdep::graph_json(state);
  CHECK(lockdep_test::json_syntax::valid(json));
  CHECK(contains(json, "\"name\":\"we\\\"ird\\\\name\\n\\u0001\""));
  CHECK(contains(lockdep::graph_dot(state), "[label=\"we\\\"ird\\\\name\\n\x01\\n{+.+.}\"]"));
}

TEST_CASE("a class forgotten after its cycle was reported leaves the dumps consistent", "[state]") {
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  report_capture capture(keep_going);
  lockdep::mutex a{"gone_a"};
  auto b = std::make_unique<lockdep::mutex>("gone_b");
  lockdep_test::lock_unlock_2(a, *b);
  lockdep_test::lock_unlock_2(*b, a);
  REQUIRE(capture.count() == 1);
  b.reset();  // its class, dependencies and chains are forgotten
  lockdep::validator_state state = lockdep::snapshot();
  CHECK(state.stats.lock_classes == 1);
  CHECK(state.dependencies.empty());
  REQUIRE(state.reported_cycles.size() == 1);
  CHECK(state.reported_cycles[0] == std::vector<std::size_t>{class_named(state, "gone_a")});
  for (const lockdep::chain_state& chain : state.chains) {
    for (std::size_t member : chain.classes) CHECK(member < state.classes.size());
  }
  CHECK(lockdep_test::json_syntax::valid(lockdep::graph_json(state)));
  CHECK(contains(lockdep::graph_dot(state), "digraph"));
}
