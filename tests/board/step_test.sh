#!/usr/bin/env bash
# Step mode and page mode side by side (hwslice trace --mode step and
# hwslice trace --interval), on our own programs, busybox (static) and xz
# (dynamic), with ASLR off so both modes see the same addresses:
#  - neither mode changes the program's output or exit status;
#  - step mode's records are consistent (inst records = instructions
#    stepped; boundaries at k * N; its pages records = its own records);
#  - k1: the hardware's instructions:u confirms step mode's count, and page
#    mode's intervals end where step mode counts;
#  - page mode's pages are a superset of step mode's (per interval on k1,
#    whose positions are exact; over the whole run on vf2, whose page-mode
#    positions count kernel instructions too), and so are page mode's with
#    pages kept open (--keep-pages 2), whose run is unchanged too and whose
#    extra pages were all touched in the 2 intervals before (k1; vf2: in
#    the run);
#  - step mode's boundary registers equal those trace --at reaches by block
#    stepping (a different stepping method) at the same positions.
source "$(dirname "$0")/lib.sh" "$@"

# vf2's page-mode positions count the kernel's instructions (its faults
# above all), so its page-mode intervals are 4 times longer there; its pages
# are compared with step mode's over the whole run anyway.
pscale=1
[[ $profile == vf2 ]] && pscale=4
# Everyday: our compute and heap programs; the long tier adds busybox, xz -d
# and xz -d's runs with kept pages and without fault-around.
programs="compute heap"
is_long && programs="compute heap busybox xz-d"
vboard --pkg xz-utils --out "$out_dir" --timeout 1500 -- sh -c "pscale=$pscale long=$long"'
  set -u
  cd /tmp
  i=0; while [ $i -lt 40 ]; do echo "line $i of the step-mode input, $((i * i % 977))"; i=$((i+1)); done > in.txt
  xz -T1 -c in.txt > in.txt.xz
  # both NAME N CMD...: untraced, page mode, step mode
  both() {
    name=$1 n=$2; shift 2
    "$@" > /out/$name.plain.out 2>/dev/null; echo $? > /out/$name.plain.rc
    hwslice trace --no-aslr --interval $((n * pscale)) -o /out/$name.pages.jsonl -- "$@" > /out/$name.pages.out 2> /out/$name.pages.err
    echo $? > /out/$name.pages.rc
    hwslice trace --no-aslr --mode step --interval $n -o /out/$name.step.jsonl -- "$@" > /out/$name.step.out 2> /out/$name.step.err
    echo $? > /out/$name.step.rc
  }
  both compute 40000 compute 3
  both heap 20000 slicecases heap 3
  if [ "$long" = 1 ]; then
  both busybox 20000 busybox md5sum in.txt
  both xz-d 100000 xz -T1 -d -c in.txt.xz
  # Page mode with pages kept open 2 more intervals: still a superset.
  hwslice trace --no-aslr --interval $((100000 * pscale)) --keep-pages 2 -o /out/xz-d-keep.pages.jsonl -- \
    xz -T1 -d -c in.txt.xz > /out/xz-d-keep.pages.out 2> /out/xz-d-keep.pages.err
  echo $? > /out/xz-d-keep.pages.rc
  # Without fault-around: the pages each interval touched, without those
  # opened with a fault because the interval before used them.
  hwslice trace --no-aslr --interval $((100000 * pscale)) --fault-around 0 -o /out/xz-d-nofa.pages.jsonl -- \
    xz -T1 -d -c in.txt.xz > /out/xz-d-nofa.pages.out 2> /out/xz-d-nofa.pages.err
  echo $? > /out/xz-d-nofa.pages.rc
  fi
  hwslice trace --fault-around 4 -- true > /dev/null 2> /out/around.err; echo $? > /out/around.rc
  hwslice trace --keep-pages 2 -- true > /dev/null 2> /out/keep.err; echo $? > /out/keep.rc
  hwslice trace --no-aslr --at 40000 --at 80000 -o /out/at.jsonl -- compute 3 > /dev/null 2>&1
  # Refused with one clear line: a fork (its child would inherit a breakpoint).
  hwslice trace --mode step -- sh -c "/bin/true; true" > /dev/null 2> /out/fork.err; echo $? > /out/fork.rc
'

for name in $programs; do
  echo " $name:"
  assert_eq "$name: exit status 0" 0 "$(cat "$out_dir/$name.plain.rc")"
  for mode in pages step; do
    assert_eq "$name: $mode mode leaves the exit status" 0 "$(cat "$out_dir/$name.$mode.rc" 2>/dev/null)"
    cmp -s "$out_dir/$name.plain.out" "$out_dir/$name.$mode.out"
    assert_eq "$name: $mode mode leaves the output ($(wc -c < "$out_dir/$name.plain.out") bytes)" 0 "$?"
  done
  grep "hwslice: stepped" "$out_dir/$name.step.err" | sed 's/^/    /'
  board/sdk run python3 tests/board/step_check.py "$out_dir/$name.step.jsonl" "$out_dir/$name.step.err" \
    "$out_dir/$name.pages.jsonl" "$profile" | sed 's/^/    /'
  assert_eq "$name: step trace consistent, hardware-confirmed (k1), page mode a superset" 0 "${PIPESTATUS[0]}"
done

if is_long; then
echo " xz-d --keep-pages 2:"
assert_eq "xz-d: page mode with kept pages leaves the exit status" 0 "$(cat "$out_dir/xz-d-keep.pages.rc" 2>/dev/null)"
cmp -s "$out_dir/xz-d.plain.out" "$out_dir/xz-d-keep.pages.out"
assert_eq "xz-d: page mode with kept pages leaves the output" 0 "$?"
grep "page faults" "$out_dir/xz-d.pages.err" "$out_dir/xz-d-keep.pages.err" | sed 's/^/    /'
board/sdk run python3 tests/board/step_check.py "$out_dir/xz-d.step.jsonl" "$out_dir/xz-d.step.err" \
  "$out_dir/xz-d-keep.pages.jsonl" "$profile" 2 "$out_dir/xz-d.pages.jsonl" | sed 's/^/    /'
assert_eq "xz-d: page mode with kept pages is a superset of step mode, and keeps only pages touched lately" 0 \
  "${PIPESTATUS[0]}"

echo " xz-d --fault-around 0:"
assert_eq "xz-d: page mode without fault-around leaves the exit status" 0 "$(cat "$out_dir/xz-d-nofa.pages.rc" 2>/dev/null)"
cmp -s "$out_dir/xz-d.plain.out" "$out_dir/xz-d-nofa.pages.out"
assert_eq "xz-d: page mode without fault-around leaves the output" 0 "$?"
grep "page faults" "$out_dir/xz-d-nofa.pages.err" | sed 's/^/    /'
opened=$(sed -n 's/.*page faults (\([0-9]*\) pages opened with them.*/\1/p' "$out_dir/xz-d.pages.err")
assert_eq "xz-d: fault-around opened pages with faults ($opened)" 1 "$(( ${opened:-0} > 0 ))"
# Each page the default run lists was touched in its interval or the one
# before: it is in what the run without fault-around lists for them (that
# run itself checked against step mode above for the same program).
board/sdk run python3 tests/board/step_check.py "$out_dir/xz-d.step.jsonl" "$out_dir/xz-d.step.err" \
  "$out_dir/xz-d.pages.jsonl" "$profile" 1 "$out_dir/xz-d-nofa.pages.jsonl" "fault-around" | sed 's/^/    /'
assert_eq "xz-d: fault-around lists only pages touched in the interval or the one before" 0 "${PIPESTATUS[0]}"
fi
assert_eq "--fault-around without --interval: usage error" 2 "$(cat "$out_dir/around.rc")"
assert_contains "--fault-around without --interval: one clear line" \
  "hwslice: error: --fault-around is for page tracking: use it with --interval N in page mode" "$(cat "$out_dir/around.err")"
assert_eq "--keep-pages without --interval: usage error" 2 "$(cat "$out_dir/keep.rc")"
assert_contains "--keep-pages without --interval: one clear line" \
  "hwslice: error: --keep-pages is for page tracking: use it with --interval N in page mode" "$(cat "$out_dir/keep.err")"

# Step mode's boundaries against block stepping (trace --at).
regs_at() {  # FILE K -> "pc x1..x31" of the record at position K
  board/sdk run python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "regs" and r.get("icount") == int(sys.argv[2]):
        print(r["pc"], " ".join(r["ints"])); break' "$1" "$2"
}
for k in 40000 80000; do
  a=$(regs_at "$out_dir/compute.step.jsonl" $k)
  assert_eq "compute: registers at $k equal block stepping's" "$(regs_at "$out_dir/at.jsonl" $k)" "$a"
  [[ -n $a ]] || assert_eq "compute: a boundary at $k" present missing
done
assert_eq "fork in step mode: exit status 1" 1 "$(cat "$out_dir/fork.rc")"
assert_eq "fork in step mode: one clear error" \
  "hwslice: error: step mode cannot follow clone: the new process would inherit the step's breakpoint" \
  "$(cat "$out_dir/fork.err")"
finish
