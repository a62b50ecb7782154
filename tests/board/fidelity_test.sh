#!/usr/bin/env bash
# Slices that end exactly, once, and the program's own signals
# (runtime/slice_abi.h "End of slice", record/signal_rules.h), in the
# virtual board:
#  - an interpreter whose state lives only in memory (registers and stack
#    repeat every round of its bytecode loop), Debian's lua5.4 running a
#    loop, a program that dies of SIGSEGV, one that handles SIGSEGV (and
#    makes the faulting page writable), one that takes SIGALRM from an
#    interval timer and one that takes SIGUSR1 from a child, at points that
#    vary from run to run: every slice passes `hwslice verify`; on k1 each
#    retires exactly its instruction count, on vf2 each ends in its recorded
#    state and within the counter bound (verify checks both);
#  - the exit status is the untraced run's for trace, trace --interval,
#    trace --mode step and slice;
#  - the ends: most of the signal programs' slices end at an event with at
#    most one kernel trap; the interpreter's counted ends end at the pass
#    the slicer measured, with one kernel trap (median), on both profiles;
#  - a page that faults twice in one interval (the program protects it
#    again in between) is refused at slice time with one clear error naming
#    the signal, and no slice is left behind.
source "$(dirname "$0")/lib.sh" "$@"

# Interval lengths per profile: on vf2 positions count the kernel's work too
# (slice_test.sh), so its intervals are longer for a similar number of slices.
vboard --pkg lua5.4 --out "$out_dir" --timeout 1500 -- sh -c "profile=$profile"'
  set -u
  cd /tmp
  P=/usr/lib/hwslice/tests
  # run NAME K1_INTERVAL VF2_INTERVAL CMD...: untraced, trace, trace
  # --interval, slice and verify; statuses in NAME.*.rc
  run() {
    name=$1 n=$2; [ "$profile" = vf2 ] && n=$3; shift 3
    "$@" > /out/$name.plain.out 2> /dev/null; echo $? > /out/$name.plain.rc
    # The exit statuses of trace and trace --interval: for the programs
    # whose signals make them (the interpreters exit 0 like any program).
    case $name in interp|lua) ;; *)
      hwslice trace -o /tmp/t.jsonl -- "$@" > /dev/null 2>&1; echo $? > /out/$name.trace.rc
      hwslice trace --interval $n -o /tmp/t.jsonl -- "$@" > /dev/null 2> /out/$name.interval.err; echo $? > /out/$name.interval.rc
    esac
    mkdir -p /out/$name
    hwslice slice --interval $n --output-prefix /out/$name/s -- "$@" > /out/$name.sliced.out 2> /out/$name.sliced.err
    echo $? > /out/$name.slice.rc
    hwslice verify --json --timeout 120 /out/$name/smanifest.json > /out/$name.verify.json 2> /out/$name.verify.err
    echo $? > /out/$name.verify.rc
    # The table too when something failed (the JSON has the rest).
    [ "$(cat /out/$name.verify.rc)" = 0 ] || hwslice verify --timeout 120 /out/$name/smanifest.json > /out/$name.verify.txt 2>&1
  }
  run interp 200000 400000 $P/fidelity interp 100000
  run lua 500000 2000000 lua5.4 -e "local s = 0 for i = 1, 20000 do s = (s + i * i) % 1000003 end print(s)"
  run crash 300000 600000 $P/fidelity crash 3000
  run segv 200000 400000 $P/fidelity segv 4
  run alarm 300000 600000 $P/fidelity alarm 300
  run usr1 300000 600000 $P/fidelity-dyn usr1 300
  # Step mode steps into handlers: the same exit statuses, exact positions.
  for m in crash segv; do
    hwslice trace --mode step -o /tmp/s.jsonl -- $P/fidelity $m 1 > /dev/null 2> /out/step-$m.err
    echo $? > /out/step-$m.rc
    $P/fidelity $m 1 > /dev/null 2>&1; echo $? > /out/step-$m.plain.rc
  done
  # The same page faulting twice in one interval: refused.
  mkdir -p /out/refault
  hwslice slice --interval 100000000 --output-prefix /out/refault/s -- $P/fidelity refault 2 > /dev/null 2> /out/refault.err
  echo $? > /out/refault.rc
  ls /out/refault | wc -l > /out/refault.files
'

json() { board/sdk run python3 -c "$1" "${@:2}"; }
for name in interp lua crash segv alarm usr1; do
  echo " $name:"
  plain=$(cat "$out_dir/$name.plain.rc")
  if [[ -f $out_dir/$name.trace.rc ]]; then
    assert_eq "$name: hwslice trace exits with the program's status" "$plain" "$(cat "$out_dir/$name.trace.rc")"
    assert_eq "$name: hwslice trace --interval exits with the program's status" "$plain" \
      "$(cat "$out_dir/$name.interval.rc")"
  fi
  assert_eq "$name: hwslice slice exits with the program's status" "$plain" "$(cat "$out_dir/$name.slice.rc")"
  plain_bytes=$(wc -c < "$out_dir/$name.plain.out")
  cmp -s "$out_dir/$name.plain.out" <(head -c "$plain_bytes" "$out_dir/$name.sliced.out")
  assert_eq "$name: program output unchanged by slicing ($plain_bytes bytes)" 0 "$?"
  [[ -f $out_dir/$name/smanifest.json ]] || { echo "  FAIL: $name: no manifest"; tail -3 "$out_dir/$name.sliced.err"; bad=1; continue; }
  n=$(json 'import json,sys; print(len(json.load(open(sys.argv[1]))["slices"]))' "$out_dir/$name/smanifest.json")
  passed=$(json 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["ok"]))' "$out_dir/$name.verify.json")
  assert_eq "$name: hwslice verify exit status" 0 "$(cat "$out_dir/$name.verify.rc")"
  [[ $(cat "$out_dir/$name.verify.rc") == 0 ]] || grep -A5 FAIL "$out_dir/$name.verify.txt" | head -30
  assert_eq "$name: all $n slices pass verify" "$n" "$passed"
  if [[ $profile == k1 ]]; then
    exact=$(json 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["count_check"] == "exact"))' "$out_dir/$name.verify.json")
    assert_eq "$name: every slice retires exactly end - start instructions (k1)" "$n" "$exact"
  fi
  echo "  note: $name: $(json 'import json,sys; v=json.load(open(sys.argv[1])); t=sorted(r["end_traps"] for r in v); print(f"{len(v)} slices, {sum(r['"'"'ok'"'"'] for r in v)} passed; kernel traps for the end: median {t[len(t)//2]}, max {t[-1]}")' "$out_dir/$name.verify.json")"
  echo "  note: $name: end kinds $(json 'import json,sys,collections; print(dict(collections.Counter(r["end_kind"] for r in json.load(open(sys.argv[1])))))' "$out_dir/$name.verify.json")"
done
# The programs that fault and die: the last slice ends at the fatal fault.
assert_eq "crash: the untraced status is 139 (SIGSEGV)" 139 "$(cat "$out_dir/crash.plain.rc")"
assert_eq "crash: its last slice ends at the fault" fault \
  "$(json 'import json,sys; print(json.load(open(sys.argv[1]))["slices"][-1]["end_kind"])' "$out_dir/crash/smanifest.json")"
assert_eq "segv: the untraced status is 7 (its handler exits)" 7 "$(cat "$out_dir/segv.plain.rc")"
# Signals delivered to handlers are part of the slices (a signal delivery
# in the replay table), at least the 3 SIGALRMs the program waits for.
sigs() { sed -n 's/^\([0-9]*\) signals delivered to the program.s handlers$/\1/p' "$out_dir/$1.sliced.out"; }
alarms=$(sigs alarm) usr1s=$(sigs usr1)
assert_eq "alarm: at least 3 SIGALRMs sliced (${alarms:-none})" 1 "$(( ${alarms:-0} >= 3 ))"
assert_eq "usr1: at least one SIGUSR1 sliced (${usr1s:-none})" 1 "$(( ${usr1s:-0} >= 1 ))"
assert_eq "segv: 5 SIGSEGVs sliced (4 fixed pages and the last)" 5 "$(sigs segv)"
# The ends: the median slice of the signal programs ends at an event, with
# at most one trap for the end; the interpreter's counted ends end at the
# pass the slicer measured with one check of their pass stub (a trap at
# every pass of the end pc was 12,000 to 48,000 per slice; the stub's
# batches of exact counts on k1 took about 40).
for name in alarm usr1; do
  med=$(json 'import json,sys; v=sorted(r["end_traps"] for r in json.load(open(sys.argv[1]))); print(v[len(v)//2])' "$out_dir/$name.verify.json")
  assert_eq "$name: median kernel traps for the end at most 1 ($med)" 1 "$(( med <= 1 ))"
done
med=$(json 'import json,sys; v=sorted(r["end_traps"] for r in json.load(open(sys.argv[1])) if r["end_kind"] == "counted"); print(v[len(v)//2] if v else "none")' "$out_dir/interp.verify.json")
assert_eq "interp: counted ends' median kernel traps for the end" 1 "$med"
assert_contains "interp: the slicer measured the counted ends' passes" "counted ends end at the pass one run of the slice measured" \
  "$(cat "$out_dir/interp.sliced.out")"
for m in crash segv; do
  assert_eq "trace --mode step ($m): the program's status" "$(cat "$out_dir/step-$m.plain.rc")" "$(cat "$out_dir/step-$m.rc")"
  assert_contains "trace --mode step ($m): positions exact" "instructions (exact)" "$(cat "$out_dir/step-$m.err")"
done
assert_contains "trace --mode step (segv): the handler is stepped" "signals stepped into their handlers" \
  "$(cat "$out_dir/step-segv.err")"
assert_eq "refault: slice exit status" 1 "$(cat "$out_dir/refault.rc")"
assert_contains "refault: one clear error naming the signal" "hwslice: error: slice " "$(cat "$out_dir/refault.err")"
assert_contains "refault: the error names SIGSEGV" "SIGSEGV at pc" "$(cat "$out_dir/refault.err")"
assert_eq "refault: no file left behind" 0 "$(cat "$out_dir/refault.files")"
finish
