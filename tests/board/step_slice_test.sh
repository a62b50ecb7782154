#!/usr/bin/env bash
# hwslice slice --mode step in the virtual board: slices that hold only the
# bytes their interval uses. For our own test programs (compute loop, an
# interval made of syscalls, rdtime read by the program's own code; in the
# long tier also heap growth and stdio output), and in the long tier
# busybox (static) and xz -d (dynamic), short enough to step every
# instruction:
#  - slicing in step mode leaves the program's output and exit status
#    unchanged;
#  - every slice passes `hwslice verify` (end by its end mechanism, registers,
#    written-memory digest, echoed output), on k1 with exactly end - start
#    program instructions retired, and reaches the same end state under
#    qemu-riscv64 user mode on the host;
#  - interval i starts at 0 or where interval i - 1 ended and ends at the
#    first instruction at or after (i + 1) * N that can carry the end
#    breakpoint (within 32 instructions of it here); the last one ends at the
#    exit call, at the instruction count page mode finds (k1: exact counts);
#  - step-mode slices are smaller than page-mode slices of the same program
#    and interval length (compute; median and total; k1, where page mode's
#    positions are exact), the sizes are printed;
#  - a SimPoint selection in step mode slices only the chosen intervals.
source "$(dirname "$0")/lib.sh" "$@"

# Page mode slices the same programs on k1 for the size comparison. On vf2
# its positions count the kernel's instructions too (no Sscofpmf), which
# turns these short intervals into thousands of slices (docs/positions.md):
# step mode only there.
modes="step pages"
[[ $profile == vf2 ]] && modes=step
# Everyday: the compute loop, an interval made of syscalls and rdtime; the
# long tier adds heap growth, stdio, busybox and xz -d.
programs="compute syscalls timer"
is_long && programs="compute heap stdio syscalls timer busybox xz-d"

vboard --pkg xz-utils --out "$out_dir" --timeout 2400 --mem 2048 -- sh -c "modes='$modes' long=$long"'
  set -u
  cd /tmp
  i=0; while [ $i -lt 300 ]; do echo "line $i of the slicing input, $((i * i % 977))"; i=$((i+1)); done > in.txt
  head -c 2000 in.txt > small.txt; xz -T1 -c small.txt > small.txt.xz
  # slice NAME INTERVAL CMD...: untraced run, step-mode and page-mode slicing, verify both
  slice() {
    name=$1 n=$2; shift 2
    "$@" > /out/$name.plain.out 2> /out/$name.plain.err; echo $? > /out/$name.plain.rc
    for mode in $modes; do
      # Page mode for the size comparison: compute (slice_test.sh covers
      # page mode on the others).
      [ $mode = pages ] && [ $name != compute ] && continue
      mkdir -p /out/$name-$mode
      hwslice slice --mode $mode --interval $n --output-prefix /out/$name-$mode/s -- "$@" \
        > /out/$name-$mode.sliced.out 2> /out/$name-$mode.sliced.err
      echo $? > /out/$name-$mode.slice.rc
      hwslice verify --json /out/$name-$mode/smanifest.json > /out/$name-$mode.verify.json 2> /out/$name-$mode.verify.err
      echo $? > /out/$name-$mode.verify.rc
      [ "$(cat /out/$name-$mode.verify.rc)" = 0 ] || hwslice verify /out/$name-$mode/smanifest.json > /out/$name-$mode.verify.txt 2>&1
    done
  }
  slice compute 40000 compute 3
  slice syscalls 5000 slicecases syscalls 20
  slice timer 40000 slicecases timer 20
  if [ "$long" = 1 ]; then
    slice heap 50000 slicecases heap 3
    slice stdio 30000 slicecases stdio 20
    slice busybox 60000 busybox md5sum small.txt
    slice xz-d 100000 xz -T1 -d -c small.txt.xz
  fi
  # SimPoint in step mode: intervals 1 and 3 of compute 3.
  printf "1 0\n3 1\n" > sp.simpoints; printf "0.75 0\n0.25 1\n" > sp.weights
  mkdir -p /out/sp
  hwslice slice --mode step --interval 40000 --simpoints sp.simpoints --weights sp.weights --output-prefix /out/sp/s -- compute 3 > /out/sp.out 2>&1
  echo $? > /out/sp.rc
  hwslice verify /out/sp/smanifest.json > /out/sp.verify.txt 2>&1; echo $? > /out/sp.verify.rc
'

json() { board/sdk run python3 -c "$1" "${@:2}"; }
for name in $programs; do
  echo " $name:"
  assert_eq "$name: untraced exit status 0" 0 "$(cat "$out_dir/$name.plain.rc")"
  for mode in $modes; do
    [[ $mode == pages && $name != compute ]] && continue
    d=$out_dir/$name-$mode
    assert_eq "$name [$mode]: hwslice slice exit status" 0 "$(cat "$d.slice.rc")"
    [[ $(cat "$d.slice.rc") == 0 ]] || { tail -3 "$d.sliced.err"; continue; }
    plain_bytes=$(wc -c < "$out_dir/$name.plain.out")
    cmp -s "$out_dir/$name.plain.out" <(head -c "$plain_bytes" "$d.sliced.out")
    assert_eq "$name [$mode]: program output unchanged by slicing ($plain_bytes bytes)" 0 "$?"
    n=$(json 'import json,sys; print(len(json.load(open(sys.argv[1]))["slices"]))' "$d/smanifest.json")
    passed=$(json 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["ok"]))' "$d.verify.json")
    exact=$(json 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["count_check"] == "exact"))' "$d.verify.json")
    assert_eq "$name [$mode]: hwslice verify exit status" 0 "$(cat "$d.verify.rc")"
    [[ $(cat "$d.verify.rc") == 0 ]] || sed -n 1,30p "$d.verify.txt"
    assert_eq "$name [$mode]: all $n slices pass verify" "$n" "$passed"
    [[ $profile == k1 ]] && assert_eq "$name [$mode]: every slice retires exactly end - start instructions (k1)" "$n" "$exact"
    if [[ $name == timer ]]; then
      reads=$(json 'import json,sys; print(sum(s.get("counter_reads", 0) for s in json.load(open(sys.argv[1]))["slices"]))' "$d/smanifest.json")
      assert_eq "timer [$mode]: the slices replay all 20 rdtime reads" 20 "$reads"
    fi
    [[ $mode == step ]] || continue
    board/sdk run build/host/hwslice verify --json --runner "qemu-riscv64" "$d/smanifest.json" > "$d.qemu.json" 2> "$d.qemu.err"
    qemu_ok=$(json 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["ok"]))' "$d.qemu.json")
    assert_eq "$name [$mode]: every slice reaches the same end state under qemu-riscv64" "$n" "$qemu_ok"
    # Boundaries: contiguous from 0, each within 32 instructions after (i + 1) * N.
    bounds=$(json '
import json, sys
m = json.load(open(sys.argv[1])); n = m["interval"]; s = m["slices"]; bad = []
for i, x in enumerate(s):
    if x["start"] != (0 if i == 0 else s[i - 1]["end"]): bad.append("slice %d starts at %d" % (i, x["start"]))
    if i + 1 < len(s) and not (0 <= x["end"] - (i + 1) * n < 32): bad.append("slice %d ends at %d" % (i, x["end"]))
print("; ".join(bad) or "ok")' "$d/smanifest.json")
    assert_eq "$name [step]: interval i ends within 32 instructions after (i + 1) * N, the next starts there" ok "$bounds"
  done
  [[ -f $out_dir/$name-step/smanifest.json && -f $out_dir/$name-pages/smanifest.json ]] || continue
  cmp_sizes=$(json '
import json, sys, statistics
st = [x["size"] for x in json.load(open(sys.argv[1]))["slices"]]
pg = [x["size"] for x in json.load(open(sys.argv[2]))["slices"]]
print(int(statistics.median(st)), sum(st), int(statistics.median(pg)), sum(pg))' "$out_dir/$name-step/smanifest.json" "$out_dir/$name-pages/smanifest.json")
  read -r st_med st_sum pg_med pg_sum <<< "$cmp_sizes"
  echo "  note: $name: step-mode slices median $st_med bytes, total $st_sum; page mode median $pg_med, total $pg_sum"
  assert_eq "$name: step-mode slices are smaller (median $st_med < $pg_med, total $st_sum < $pg_sum)" 1 \
    "$(( st_med < pg_med && st_sum < pg_sum ))"
  # timer's path depends on the time it reads: its two runs need not end
  # at the same count.
  if [[ $profile == k1 && $name != timer ]]; then
    ends=$(json 'import json,sys; print(*(json.load(open(a))["slices"][-1]["end"] for a in sys.argv[1:]))' \
      "$out_dir/$name-step/smanifest.json" "$out_dir/$name-pages/smanifest.json")
    read -r st_end pg_end <<< "$ends"
    assert_eq "$name: the last step-mode slice ends where page mode's does (the program's exit, $pg_end)" "$pg_end" "$st_end"
  fi
done
assert_eq "simpoints [step]: slice exit status" 0 "$(cat "$out_dir/sp.rc")"
[[ $(cat "$out_dir/sp.rc") == 0 ]] || tail -3 "$out_dir/sp.out"
assert_eq "simpoints [step]: intervals 1 and 3, weights 0.75 and 0.25" "40000 0.75 120000 0.25" \
  "$(json 'import json,sys; print(" ".join("%d %s" % (s["start"], s["weight"]) for s in json.load(open(sys.argv[1]))["slices"]))' "$out_dir/sp/smanifest.json")"
assert_eq "simpoints [step]: verify" 0 "$(cat "$out_dir/sp.verify.rc")"
finish
