#include "dependency_graph.hpp"

#include <algorithm>

namespace lockdep::detail {

dependency_graph::dependency_graph(class_registry& classes, std::size_t max_dependencies)
    : classes_(classes),
      capacity_(max_dependencies) {}

bool dependency_graph::visit(class_index index, bool only_recursive) {
  // A class reached by a strong-ending path allows every onward edge, so reaching it again
  // cannot find anything new; reaching it first by an only-recursive path allows fewer.
  if (reached_strong_[index] == searches_) return false;
  if (only_recursive) {
    if (reached_any_[index] == searches_) return false;
    reached_any_[index] = searches_;
    return true;
  }
  reached_strong_[index] = searches_;
  reached_any_[index] = searches_;
  return true;
}

std::vector<path_step> dependency_graph::find_cycle_path(class_index start,
                                                         lock_access start_access,
                                                         class_index target,
                                                         lock_access target_access) {
  ++searches_;
  queue_.clear();
  // Sized by the classes used so far, not by max_classes, which may be large.
  if (reached_strong_.size() < classes_.end_index()) {
    reached_strong_.resize(classes_.end_index(), 0);
    reached_any_.resize(classes_.end_index(), 0);
  }
  // The new edge target --> start: a shared target leaves by (Sx); a recursive-read start is
  // entered by (xR). These are the two junctions the strong-path rule looks at.
  bool target_shared = target_access != lock_access::exclusive;
  auto closes_cycle = [&](const search_node& node) {
    return node.lock_class == target && !(target_shared && node.only_recursive);
  };

  queue_.push_back({start, start_access == lock_access::shared_recursive, -1, 0});
  visit(start, queue_.back().only_recursive);
  std::int32_t found = closes_cycle(queue_.front()) ? 0 : -1;

  for (std::size_t head = 0; found < 0 && head < queue_.size(); ++head) {
    search_node current = queue_[head];
    for (const dependency& edge : classes_.at(current.lock_class).after) {
      std::uint8_t types = edge.types;
      if (current.only_recursive) types &= ~dep_from_shared;
      if (types == 0) continue;
      bool only_recursive = (types & dep_to_nonrecursive) == 0;
      if (!visit(edge.other, only_recursive)) continue;
      queue_.push_back({edge.other, only_recursive, static_cast<std::int32_t>(head), edge.trace});
      if (closes_cycle(queue_.back())) {
        found = static_cast<std::int32_t>(queue_.size() - 1);
        break;
      }
    }
  }
  if (found < 0) return {};

  std::vector<path_step> path;
  for (std::int32_t at = found; at >= 0; at = queue_[at].parent) {
    path.push_back({queue_[at].lock_class, queue_[at].trace});
  }
  std::reverse(path.begin(), path.end());
  return path;
}

dependency* dependency_graph::find(class_index from, class_index to) {
  // The edge is in both lists: scan the shorter (a class every lock is taken under has one
  // entry per lock in its forward list, while each of those locks has a short backward one).
  dependency_list& after = classes_.at(from).after;
  dependency_list& before = classes_.at(to).before;
  if (after.size() <= before.size()) {
    for (dependency& edge : after) {
      if (edge.other == to) return &edge;
    }
  } else {
    for (dependency& edge : before) {
      if (edge.other == from) return &after.at(edge.mirror);
    }
  }
  return nullptr;
}

void dependency_graph::note(dependency& forward, class_index to, std::uint8_t types,
                            unsigned distance) {
  dependency& backward = classes_.at(to).before.at(forward.mirror);
  for (dependency* edge : {&forward, &backward}) {
    edge->types |= types;
    edge->distance = static_cast<std::uint16_t>(std::min<unsigned>(edge->distance, distance));
  }
}

bool dependency_graph::insert(class_index from, class_index to, std::uint8_t types,
                              unsigned distance, std::uint32_t trace) {
  if (count_ >= capacity_) return false;
  auto short_distance = static_cast<std::uint16_t>(std::min<unsigned>(distance, 0xffff));
  dependency_list& after = classes_.at(from).after;
  dependency_list& before = classes_.at(to).before;
  std::uint32_t forward = after.positions();
  std::uint32_t backward = before.positions();
  after.append({to, types, short_distance, trace, backward});
  before.append({from, types, short_distance, trace, forward});
  ++count_;
  return true;
}

void dependency_graph::remove_class(class_index index) {
  lock_class& doomed = classes_.at(index);
  // Removes an edge's twin from `other`'s list; compaction there moves entries whose own twins
  // (in `twin_side` lists of their other classes) must learn the new position.
  auto remove_twin = [this](dependency_list lock_class::*list, dependency_list lock_class::*twin_side,
                            const dependency& edge) {
    dependency_list& other = classes_.at(edge.other).*list;
    other.remove(edge.mirror);
    other.compact_if_sparse([&](const dependency& moved, std::uint32_t position) {
      (classes_.at(moved.other).*twin_side).at(moved.mirror).mirror = position;
    });
  };
  for (const dependency& edge : doomed.after) {
    // Self edges were counted once, in the forward list, and go with the class's own lists.
    if (edge.other != index) remove_twin(&lock_class::before, &lock_class::after, edge);
    --count_;
  }
  for (const dependency& edge : doomed.before) {
    if (edge.other == index) continue;
    remove_twin(&lock_class::after, &lock_class::before, edge);
    --count_;
  }
  doomed.after.release();
  doomed.before.release();
}

void dependency_graph::clear() {
  count_ = 0;
  queue_.clear();
  std::fill(reached_strong_.begin(), reached_strong_.end(), 0);
  std::fill(reached_any_.begin(), reached_any_.end(), 0);
}

}  // namespace lockdep::detail
