#include "control/position_mode.h"

namespace hwslice {

std::optional<PositionMode> parse_position_mode(std::string_view name) {
  if (name == "auto") return PositionMode::kAuto;
  if (name == "overflow") return PositionMode::kOverflow;
  if (name == "count") return PositionMode::kCount;
  if (name == "block") return PositionMode::kBlock;
  if (name == "single") return PositionMode::kSingle;
  return std::nullopt;
}

std::string_view to_string(PositionMode mode) {
  switch (mode) {
    case PositionMode::kAuto: return "auto";
    case PositionMode::kOverflow: return "overflow";
    case PositionMode::kCount: return "count";
    case PositionMode::kBlock: return "block";
    case PositionMode::kSingle: return "single";
  }
  return "?";
}

Result<PositionMode> resolve(PositionMode asked, const CounterAbility& ability) {
  switch (asked) {
    case PositionMode::kAuto:
      if (ability.user_exact && ability.overflow_opens) return PositionMode::kOverflow;
      return ability.user_exact ? PositionMode::kCount : PositionMode::kBlock;
    case PositionMode::kOverflow:
      if (!ability.user_exact)
        return Error("--position-mode overflow needs a user-only instruction counter (Sscofpmf), which this board "
                     "lacks; --position-mode block steps all the way");
      if (!ability.overflow_opens)
        return Error("--position-mode overflow needs counter-overflow signals, which this board's counters do not "
                     "give; --position-mode count uses timer stops instead");
      return asked;
    case PositionMode::kCount:
      if (!ability.user_exact)
        return Error("--position-mode count needs a user-only instruction counter (Sscofpmf), which this board "
                     "lacks; --position-mode block steps all the way");
      return asked;
    case PositionMode::kBlock:
    case PositionMode::kSingle: return asked;
  }
  return Error("unknown position mode");
}

std::string recorded_name(PositionMode used, bool by_overflow) {
  switch (used) {
    case PositionMode::kOverflow:
    case PositionMode::kCount: return by_overflow ? "overflow+step" : "count+step";
    case PositionMode::kSingle: return "single-step";
    default: return "block-step";
  }
}

}  // namespace hwslice
