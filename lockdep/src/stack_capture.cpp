#include "stack_capture.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <algorithm>
#include <array>
#include <span>

namespace lockdep::detail {

namespace {

// unw_backtrace is far faster than stepping frame by frame, but needs a buffer that also holds
// the skipped frames; requests deeper than this take the slow path instead.
constexpr std::size_t fast_capture_depth = 256;

std::size_t copy_unskipped(std::span<void* const> captured, std::size_t skipped,
                           std::uintptr_t* out) {
  if (captured.size() <= skipped) return 0;
  const auto kept = captured.subspan(skipped);
  std::ranges::transform(kept, out, [](void* ip) { return reinterpret_cast<std::uintptr_t>(ip); });
  return kept.size();
}

}  // namespace

[[gnu::noinline]] std::size_t capture_stack(std::uintptr_t* out, std::size_t max_frames,
                                            std::size_t skip) {
  if (max_frames == 0) return 0;
  const std::size_t skipped = skip + 1;  // our own frame comes first

  if (skipped < fast_capture_depth && max_frames <= fast_capture_depth - skipped) {
    std::array<void*, fast_capture_depth> buffer;
    const int captured = unw_backtrace(buffer.data(), static_cast<int>(max_frames + skipped));
    const auto valid = static_cast<std::size_t>(std::max(captured, 0));  // negative on failure
    return copy_unskipped(std::span(buffer.data(), valid), skipped, out);
  }

  // The walk stays in this function's body: a helper could be tail-called, which would free the
  // very frame the cursor starts from.
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) return 0;
  std::size_t depth = 0;  // 0 is this frame, 1 our caller
  std::size_t written = 0;
  while (written < max_frames && unw_step(&cursor) > 0) {
    if (++depth <= skip) continue;
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) break;
    out[written++] = ip;
  }
  return written;
}

namespace {

// The validator's own frames between a capture and the lock function (four or five for a new
// dependency; more through the preload's interposers).
constexpr std::size_t own_frames_room = 16;

}  // namespace

std::size_t current_raw_stack(const void* ip, std::uintptr_t* out, std::size_t max_frames) {
  max_frames = std::min(max_frames, max_captured_frames);
  // Unwinding a frame costs about 8 ns, so the walk stops once it has the frames kept plus
  // room for the validator's own, instead of at the bottom of a deep stack. If that cuts the
  // trace (the caller is not among them, or too deep among them to leave the frames kept),
  // the whole stack is walked. unw_backtrace is called from here, not through capture_stack(),
  // which would be one more frame to walk on every new dependency.
  std::array<void*, max_captured_frames> frames;
  auto start_of_caller = [ip, &frames](std::size_t count) -> std::size_t {
    if (ip == nullptr) return 0;  // no caller to look for: the stack as it is
    // The lock function: the frame just inside the one that returns to `ip`.
    auto caller = std::find(frames.begin(), frames.begin() + count, ip);
    return caller != frames.begin() + count && caller != frames.begin()
               ? caller - frames.begin() - 1
               : count;
  };
  std::size_t wanted = std::min(max_frames + own_frames_room, max_captured_frames);
  std::size_t count =
      static_cast<std::size_t>(std::max(unw_backtrace(frames.data(), static_cast<int>(wanted)), 0));
  std::size_t start = start_of_caller(count);
  // The short walk missed the caller, or found it so deep that the frames kept were cut.
  bool cut = count == wanted && (start == count || count - start < max_frames);
  if (cut && wanted < max_captured_frames) {
    count = static_cast<std::size_t>(
        std::max(unw_backtrace(frames.data(), static_cast<int>(max_captured_frames)), 0));
    start = start_of_caller(count);
  }
  if (start == count) start = 0;  // no caller found: keep the stack as it is
  std::size_t kept = std::min(count - start, max_frames);
  std::ranges::transform(frames.begin() + start, frames.begin() + start + kept, out,
                         [](void* frame) { return reinterpret_cast<std::uintptr_t>(frame); });
  return kept;
}

}  // namespace lockdep::detail
