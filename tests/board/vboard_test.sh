#!/usr/bin/env bash
# The virtual board itself: exit status and /out come back, real Debian
# riscv64 programs run, the static hwslice runs, and failures are errors.
source "$(dirname "$0")/lib.sh" "$@"

out=$(vboard --pkg xz-utils -- sh -c 'echo hi | xz | xz -d')
assert_eq "xz round trip in the guest" hi "$out"

out=$(vboard -- hwslice --version)
assert_eq "static hwslice runs in the guest" "hwslice 0.1.0 (riscv64, static)" "$out"
assert_contains "hwslice is linked statically" "statically linked" "$(board/sdk run file build/riscv64-static/hwslice)"

echo payload > "$out_dir/in.txt"
vboard --add "$out_dir/in.txt" --out "$out_dir/out" -- sh -c 'cp /root/in.txt /out/copy.txt; exit 7'
assert_eq "guest exit status is returned" 7 "$?"
assert_eq "--add in, /out back" payload "$(cat "$out_dir/out/copy.txt" 2>/dev/null)"

isa=$(vboard -- sh -c 'grep -m1 "^isa" /proc/cpuinfo')
case $profile in
  vf2) assert_contains "vf2 has zba_zbb" "_zba_zbb" "$isa"
       [[ $isa != *sscofpmf* ]]; assert_eq "vf2 has no sscofpmf" 0 "$?" ;;
  k1) assert_contains "k1 has sscofpmf" "_sscofpmf" "$isa" ;;
esac

if [[ $profile == vf2 ]]; then
  err=$(vboard -- sh -c 'echo c > /proc/sysrq-trigger' 2>&1 >/dev/null)
  assert_eq "a kernel crash is an error (status 125)" 125 "$?"
  assert_contains "kernel crash is reported" "hwslice: error: virtual board (vf2): kernel panic" "$err"
  err=$(vboard --timeout 20 -- sleep 600 2>&1 >/dev/null)
  assert_eq "a hang is an error (status 125)" 125 "$?"
  assert_contains "hang is reported" "hwslice: error: virtual board (vf2): timed out after 20 s" "$err"
fi
finish
