#!/usr/bin/env bash
# hwslice trace in the virtual board: tracing changes neither output nor exit
# status; every recorded write equals what the program itself saw; the
# syscall sequence equals Debian's strace for the same run (values that differ
# run to run are listed in trace_check.py); real programs: busybox (static),
# xz and zstd (dynamic) compressing and decompressing a generated file.
source "$(dirname "$0")/lib.sh" "$@"

check() { board/sdk run python3 tests/board/trace_check.py "$@"; }

vboard --pkg strace --pkg xz-utils --pkg zstd --out "$out_dir" -- sh -c '
  set -u
  cd /tmp
  # A generated input: text with some repetition, 256 KiB.
  i=0; while [ $i -lt 4096 ]; do echo "line $i of the hwslice trace test input, $((i * i % 977))"; i=$((i+1)); done > in.txt
  run() {  # run NAME CMD...: untraced, traced and under strace
    name=$1; shift
    "$@" > /out/$name.plain.out 3>/out/$name.plain.checks; echo $? > /out/$name.plain.rc
    hwslice trace -o /out/$name.jsonl -- "$@" > /out/$name.traced.out 3>/out/$name.checks; echo $? > /out/$name.traced.rc
    strace -n -qq -o /out/$name.strace -- "$@" > /out/$name.strace.out 3>/out/$name.strace.checks
  }
  run families syscall_families
  run families-dyn syscall_families-dyn
  run busybox busybox md5sum in.txt
  # -T1 / --no-asyncio: single-threaded (threads are refused, see below).
  run xz-c xz -T1 -9 -c in.txt
  xz -T1 -9 -c in.txt > in.txt.xz
  run xz-d xz -T1 -d -c in.txt.xz
  run zstd-c zstd -T1 --no-asyncio -19 -c in.txt
  zstd -19 -q -c in.txt > in.txt.zst
  run zstd-d zstd -T1 --no-asyncio -d -c in.txt.zst
  # A program that starts a thread is a clear error, and is not left behind.
  hwslice trace -- zstd -19 -c in.txt > /dev/null 2> /out/threads.err; echo $? > /out/threads.rc
  ps -o comm | grep -c "^zstd" > /out/threads.left
  # Unmodeled syscalls: an error naming the call, or a note with --allow-unknown.
  hwslice trace -- syscall_families unknown > /dev/null 2> /out/unknown.err; echo $? > /out/unknown.rc
  hwslice trace --allow-unknown -o /out/unknown.jsonl -- syscall_families unknown > /out/unknown.out; echo $? > /out/allow.rc
  # The fatal signal of the program is reported as a shell does.
  hwslice trace -- sh -c "kill -SEGV \$\$" 2> /out/segv.err; echo $? > /out/segv.rc
  # --stack: call stacks through libunwind-ptrace, printed under each call.
  hwslice trace --syscalls --stack -- syscall_families-dyn > /dev/null 3>/dev/null 2> /out/stack.err
  # Attach to a running process and follow it to its end.
  sleep 2 & pid=$!
  hwslice trace -p $pid -o /out/attach.jsonl; echo $? > /out/attach.rc
  # Interrupted while attached: detach, and the program finishes normally.
  sleep 3 & pid=$!
  hwslice trace -p $pid 2> /out/interrupt.err & tracer=$!
  sleep 1; kill -INT $tracer; wait $tracer; echo $? > /out/interrupt.rc
  wait $pid; echo $? > /out/interrupted-program.rc
'

for name in families families-dyn busybox xz-c xz-d zstd-c zstd-d; do
  echo " $name:"
  assert_eq "$name: exit status unchanged by tracing" "$(cat "$out_dir/$name.plain.rc")" "$(cat "$out_dir/$name.traced.rc" 2>/dev/null)"
  assert_eq "$name: exit status 0" 0 "$(cat "$out_dir/$name.plain.rc")"
  cmp -s "$out_dir/$name.plain.out" "$out_dir/$name.traced.out"
  assert_eq "$name: output unchanged by tracing ($(wc -c < "$out_dir/$name.plain.out") bytes)" 0 "$?"
  check strace "$out_dir/$name.jsonl" "$out_dir/$name.strace"
  assert_eq "$name: syscalls and return values equal strace's" 0 "$?"
done
for name in families families-dyn; do
  check writes "$out_dir/$name.jsonl" "$out_dir/$name.checks"
  assert_eq "$name: every write equals the program's own view of its memory" 0 "$?"
done
assert_eq "multithreaded program: exit status 1" 1 "$(cat "$out_dir/threads.rc")"
assert_eq "multithreaded program: one clear error" \
  "hwslice: error: the program creates a thread (clone3 with CLONE_THREAD): multithreaded programs are not supported yet" \
  "$(cat "$out_dir/threads.err")"
assert_eq "multithreaded program: no process left behind" 0 "$(cat "$out_dir/threads.left")"
assert_eq "unmodeled syscall: exit status 1" 1 "$(cat "$out_dir/unknown.rc")"
assert_eq "unmodeled syscall: the error names it" \
  "hwslice: error: syscall io_uring_setup (425): this syscall is not modeled (its memory effects are unknown)" \
  "$(cat "$out_dir/unknown.err")"
assert_eq "--allow-unknown: the program runs to its end" "0 io_uring_setup returned -1" "$(cat "$out_dir/allow.rc") $(cat "$out_dir/unknown.out")"
assert_contains "--allow-unknown: a note records the gap" '"kind":"unknown_effects"' "$(cat "$out_dir/unknown.jsonl")"
assert_eq "killed program: exit status 128 + SIGSEGV" 139 "$(cat "$out_dir/segv.rc")"
assert_eq "killed program: reported like a shell" "hwslice: sh killed by SIGSEGV" "$(cat "$out_dir/segv.err")"
# Registers, vDSO, nondeterministic code and forks in the trace itself.
facts=$(board/sdk run python3 - "$out_dir/families.jsonl" build/riscv64-static/tests/programs/syscall_families <<'PY'
import json, struct, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
entry = struct.unpack_from("<Q", open(sys.argv[2], "rb").read(64), 24)[0]  # e_entry
regs = next(r for r in recs if r["type"] == "regs")
notes = [r for r in recs if r["type"] == "note"]
print("entry-pc", int(regs["pc"], 16) == entry and regs["at"] == "entry")
print("sp-set", int(regs["ints"][2], 16) > 0 and len(regs["fps"]) == 32)
print("vdso", any(n["kind"] == "vdso_symbol" and n["detail"] == "__vdso_clock_gettime" for n in notes))
print("rdtime", any(n["kind"] == "nondet" and "rdtime@" in n["detail"] and "syscall_families" in n["detail"] for n in notes))
print("fork", any(n["kind"] == "fork" for n in notes))
print("rseq", any(n["kind"] == "async_write" for n in notes))
print("exit", recs[-1] == {"type": "exit", "status": 0, "signal": 0, "core": False})
PY
)
for fact in entry-pc sp-set vdso rdtime fork rseq exit; do
  assert_contains "trace records $fact" "$fact True" "$facts"
done
stack=$(sed -n '/^getcwd(/,/^[a-z]/p' "$out_dir/stack.err")
assert_contains "--stack shows the caller of getcwd" " main+0x" "$stack"
assert_eq "attached trace: exit status of the program" 0 "$(cat "$out_dir/attach.rc")"
assert_contains "attached trace: ends with the exit record" '{"core":false,"signal":0,"status":0,"type":"exit"}' "$(tail -n1 "$out_dir/attach.jsonl")"
assert_eq "interrupted tracer: exit status 1" 1 "$(cat "$out_dir/interrupt.rc")"
assert_contains "interrupted tracer: says it detached" "hwslice: error: interrupted (detached from pid" "$(cat "$out_dir/interrupt.err")"
assert_eq "interrupted tracer: the program still finishes with status 0" 0 "$(cat "$out_dir/interrupted-program.rc")"
# The traced decompressions give back the generated input.
assert_eq "xz -d output is the 4096-line input" 4096 "$(wc -l < "$out_dir/xz-d.traced.out")"
assert_eq "zstd -d output equals xz -d output" "$(md5sum < "$out_dir/xz-d.traced.out")" "$(md5sum < "$out_dir/zstd-d.traced.out")"
finish
