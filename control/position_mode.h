// PositionMode: how `hwslice trace --at K` reaches user instruction K, and
// how `--position-mode auto` picks one from what the board can do.
//
//  overflow  counted fast-forward with counter-overflow stops, then
//            stepping (user-only exact counter and overflow signals);
//  count     counted fast-forward with timer and syscall stops, then
//            stepping (user-only exact counter);
//  block     block stepping from the start (every board; slow);
//  single    one instruction per stop from the start (slower; a second,
//            differently built path for the tests).
//
// Contract: portable, pure (unit-tested on the host). resolve() turns the
// asked mode and the board's counters into the mode used, or an Error
// naming what the board lacks. The mode a position record states
// (recorded_name) is what actually happened, e.g. "count+step" for an
// overflow approach whose overflow signal never came in time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hwslice {

enum class PositionMode { kAuto, kOverflow, kCount, kBlock, kSingle };

std::optional<PositionMode> parse_position_mode(std::string_view name);
std::string_view to_string(PositionMode mode);

// What the board's counters allow, found by opening them on the tracee.
struct CounterAbility {
  bool user_exact = false;     // a user-only instruction counter opens
  bool overflow_opens = false; // a user-only sampling counter with a signal opens
};

// auto: overflow where its counter opens (it is trusted only after a first
// signal arrives: control/fast_forward.h), else count with a user-only
// counter, else block.
Result<PositionMode> resolve(PositionMode asked, const CounterAbility& ability);

// The mode string of a position record: "overflow+step", "count+step",
// "block-step", "single-step".
std::string recorded_name(PositionMode used, bool by_overflow);

}  // namespace hwslice
