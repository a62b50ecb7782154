# Shared helpers for board tests (sourced). A board test is an executable
# tests/board/NAME_test.sh taking --profile vf2|k1; it exits 0 only when every
# assertion held, and prints each failed assertion with expected and actual.
set -uo pipefail
project=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$project"
profile=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    *) echo "usage: $0 --profile vf2|k1" >&2; exit 2 ;;
  esac
done
[[ $profile == vf2 || $profile == k1 ]] || { echo "usage: $0 --profile vf2|k1" >&2; exit 2; }

# The long tier (tests/run --tier long) adds each test's long workloads.
long=${HWSLICE_TEST_LONG:-0}
is_long() { [[ $long == 1 ]]; }

test_name=$(basename "$0" .sh)
out_dir=$project/build/board-out/$test_name-$profile
rm -rf "$out_dir" && mkdir -p "$out_dir"
bad=0

vboard() { board/vboard run --profile "$profile" "$@"; }

assert_eq() {  # assert_eq WHAT EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then echo "  ok: $1"; else
    echo "  FAIL: $1"; echo "    expected: $(printf %q "$2")"; echo "    actual:   $(printf %q "$3")"; bad=1
  fi
}

assert_contains() {  # assert_contains WHAT NEEDLE HAYSTACK
  if [[ $3 == *"$2"* ]]; then echo "  ok: $1"; else
    echo "  FAIL: $1"; echo "    expected to contain: $2"; echo "    actual: $3"; bad=1
  fi
}

# The out dir gets a .finished mark: a test of the other profile running at
# the same time (tests/run) may wait for this one's results.
finish() { touch "$out_dir/.finished"; exit "$bad"; }
