#!/usr/bin/env bash
# Exact instruction positions (hwslice trace --at K) on a deterministic
# compute-bound program, at K = 0, 1, 12345, 10^6 and 10^7 + 7.
#  - The program's output and exit status are unchanged.
#  - k1 (exact user-only counter): an instructions:u counter runs alongside
#    and must equal K - emulated control transfers + breakpoint traps (the
#    virtual board's QEMU counts each trapping ebreak as an instruction; the
#    tracer performs branches itself, which the CPU then does not count).
#  - both: block stepping and one-instruction-at-a-time stepping (two
#    different stepping strategies) reach the same registers at K = 12345.
#  - both profiles reach the same pc and registers at every K (vf2 against
#    the k1 run whose count the hardware confirmed; ASLR off).
source "$(dirname "$0")/lib.sh" "$@"

positions="--at 0 --at 1 --at 12345 --at 1000000 --at 10000007"
vboard --pkg xz-utils --out "$out_dir" -- sh -c "
  seq 1 20000 > /tmp/in.txt
  xz -T1 -9 -c /tmp/in.txt > /out/xz.plain
  hwslice trace --no-aslr --at 12345 --at 1000000 -o /out/xz.jsonl -- xz -T1 -9 -c /tmp/in.txt > /out/xz.out 2>/dev/null
  compute > /out/plain.out; echo \$? > /out/plain.rc
  hwslice trace --no-aslr $positions -o /out/block.jsonl -- compute > /out/traced.out 2> /out/block.err; echo \$? > /out/traced.rc
  hwslice trace --no-aslr --position-mode single --at 12345 -o /out/single.jsonl -- compute > /dev/null 2>&1; echo \$? > /out/single.rc
"
assert_eq "exit status" 0 "$(cat "$out_dir/plain.rc")"
assert_eq "exit status unchanged by stepping" 0 "$(cat "$out_dir/traced.rc")"
assert_eq "single-step run exit status" 0 "$(cat "$out_dir/single.rc")"
assert_eq "output unchanged by stepping" "$(cat "$out_dir/plain.out")" "$(cat "$out_dir/traced.out")"
cmp -s "$out_dir/xz.plain" "$out_dir/xz.out"
assert_eq "xz (dynamic): output unchanged by stepping" 0 "$?"

# K regs-pc -> "pc x1..x31 fcsr" of the position record
regs_at() { board/sdk run python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "regs" and r.get("icount") == int(sys.argv[2]):
        print(r["pc"], " ".join(r["ints"]), " ".join(r["fps"]), r["fcsr"], r["exact"])
PY
}
# "K counted" per position_check note: the hardware count corrected for
# breakpoint traps (counted by QEMU) and emulated control transfers.
counter_checks() { board/sdk run python3 - "$1" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "note" and r["kind"] == "position_check":
        v = dict(kv.split("=") for kv in r["detail"].split()[1:])
        counter = int(re.search(r"instructions:u=(\d+)", r["detail"]).group(1))
        print(v["position"], counter - int(v["breakpoint_traps"]) + int(v["emulated"]))
PY
}

for k in 0 1 12345 1000000 10000007; do
  assert_contains "position $k recorded as exact" " True" "$(regs_at "$out_dir/block.jsonl" $k)"
done
assert_eq "block stepping = single stepping at 12345" "$(regs_at "$out_dir/single.jsonl" 12345)" "$(regs_at "$out_dir/block.jsonl" 12345)"

if [[ $profile == k1 ]]; then
  checks=$(counter_checks "$out_dir/block.jsonl")
  for k in 0 1 12345 1000000 10000007; do
    assert_contains "hardware counter confirms position $k" "$k $k" "$checks"
  done
  checks=$(counter_checks "$out_dir/xz.jsonl")
  for k in 12345 1000000; do
    assert_contains "xz (dynamic): hardware counter confirms position $k" "$k $k" "$checks"
  done
else
  k1_dir=$project/build/board-out/positions_test-k1
  k1_run=$k1_dir/block.jsonl
  # The k1 run of this test is used when it is newer than the program;
  # otherwise k1 is booted here. tests/run runs the two profiles side by
  # side: a k1 run still going (its out dir made in the last 20 minutes,
  # not marked finished) is waited for, up to 10 minutes.
  waited=0
  while [[ -d $k1_dir && ! -e $k1_dir/.finished && -n $(find "$k1_dir" -maxdepth 0 -mmin -20) && $waited -lt 600 ]]; do
    sleep 5; waited=$((waited + 5))
  done
  if [[ ! $k1_run -nt build/riscv64-static/tests/programs/compute ]]; then
    board/vboard run --profile k1 --pkg xz-utils --out "$out_dir/k1" -- sh -c \
      "hwslice trace --no-aslr $positions -o /out/block.jsonl -- compute > /dev/null
       seq 1 20000 > /tmp/in.txt
       hwslice trace --no-aslr --at 12345 --at 1000000 -o /out/xz.jsonl -- xz -T1 -9 -c /tmp/in.txt > /dev/null" >/dev/null 2>&1
    k1_run=$out_dir/k1/block.jsonl
  fi
  # xz is dynamic: ld.so and libc use the stack protector, whose canary
  # (AT_RANDOM) differs per run, so only the pc is compared.
  k1_xz=$(dirname "$k1_run")/xz.jsonl
  # Past ld.so's start a dynamic program's path can differ between two boots:
  # in one CI run xz was in ld.so at 1000000 on vf2 and in libc on k1, while
  # 12345 agreed. (Suspected: glibc's ifunc choice from riscv_hwprobe, whose
  # vDSO answers depend on whether the kernel's boot-time probes were done;
  # not confirmed.) The cross-boot pc is asserted at 12345 and reported at
  # 1000000; vf2's exactness at every K is asserted on compute below.
  assert_eq "xz (dynamic): vf2 pc at 12345 equals k1's" "$(regs_at "$k1_xz" 12345 | cut -d' ' -f1)" "$(regs_at "$out_dir/xz.jsonl" 12345 | cut -d' ' -f1)"
  echo "  note: xz (dynamic) pc at 1000000: k1 $(regs_at "$k1_xz" 1000000 | cut -d' ' -f1), vf2 $(regs_at "$out_dir/xz.jsonl" 1000000 | cut -d' ' -f1)"
  for k in 12345 1000000; do
    [[ -n $(regs_at "$out_dir/xz.jsonl" $k) ]]; assert_eq "xz (dynamic): position $k recorded" 0 "$?"
  done
  for k in 0 1 12345 1000000 10000007; do
    assert_eq "vf2 position $k equals the counter-checked k1 position" "$(regs_at "$k1_run" $k)" "$(regs_at "$out_dir/block.jsonl" $k)"
  done
fi
finish
