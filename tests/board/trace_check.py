#!/usr/bin/env python3
"""Checks a `hwslice trace` JSONL file against independent sources.

  trace_check.py writes TRACE CHECKS
      Every "CHECK <name> <ret> <addr> <hex>" line (the traced program's own
      view of its memory after a call) must be covered by a write of exactly
      those bytes at that address in a syscall record of that name.

  trace_check.py strace TRACE STRACE_OUT
      The sequence of (syscall number, return value) must equal strace's
      (run with -n) for the same program, ignoring the values listed in
      RUN_TO_RUN (addresses under ASLR, pids, clock ticks). execve and
      exit_group have no record in a trace (no exit stop / not replayable).

Prints one line per problem and exits 1 if there is any.
"""
import errno
import json
import re
import sys

# Return values that differ from run to run: compared by syscall only.
RUN_TO_RUN = {"brk", "mmap", "mremap", "set_tid_address", "getpid", "gettid", "getppid",
              "clone", "clone3", "wait4", "times"}
SKIP_IN_STRACE = {"execve", "exit_group", "exit"}


def load_trace(path):
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON: {e}")
    return records


def signed(hex_str):
    v = int(hex_str, 16)
    return v - (1 << 64) if v >= 1 << 63 else v


def check_writes(trace_path, checks_path):
    calls = [r for r in load_trace(trace_path) if r["type"] == "syscall"]
    problems = 0
    checked = 0
    with open(checks_path) as f:
        for line in f:
            if not line.startswith("CHECK "):
                continue
            _, name, ret, addr, data = line.split()
            addr = int(addr, 16)
            want = bytes.fromhex(data)
            found = False
            for c in calls:
                if c["name"] != name or signed(c["ret"]) != signed(ret):
                    continue
                for w in c["writes"]:
                    start = int(w["addr"], 16)
                    got = bytes.fromhex(w["data"])
                    if start <= addr and addr + len(want) <= start + len(got):
                        if got[addr - start: addr - start + len(want)] == want:
                            found = True
                if found:
                    break
            checked += 1
            if not found:
                problems += 1
                print(f"  no {name} write of {len(want)} bytes at {addr:#x} matching the program's view")
    print(f"  {checked} CHECK lines, {problems} not matched")
    return problems == 0 and checked > 0


STRACE_LINE = re.compile(r"^\[\s*(\d+)\]\s+([a-z0-9_]+)\((.*)\)\s+=\s+(\S+)(?:\s+(E[A-Z0-9]+))?")


def parse_strace(path):
    out = []
    with open(path) as f:
        for line in f:
            m = STRACE_LINE.match(line)
            if not m:
                continue  # signals (---), exit (+++), resumed lines
            nr, name, _, ret, err = m.groups()
            if name in SKIP_IN_STRACE:
                continue
            if ret == "?":
                continue
            if ret == "-1" and err:
                value = -getattr(errno, err, 0) if hasattr(errno, err) else -1
            else:
                value = int(ret, 0)
            out.append((int(nr), name, value))
    return out


def compare_strace(trace_path, strace_path):
    ours = [(r["nr"], r["name"], signed(r["ret"])) for r in load_trace(trace_path) if r["type"] == "syscall"]
    theirs = parse_strace(strace_path)
    problems = 0
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        if a is None or b is None:
            print(f"  #{i}: trace has {a}, strace has {b}")
            problems += 1
            break
        same_call = a[0] == b[0]
        same_ret = a[2] == b[2] or a[1] in RUN_TO_RUN
        if not (same_call and same_ret):
            print(f"  #{i}: trace {a[1]}({a[0]}) = {a[2]}, strace {b[1]}({b[0]}) = {b[2]}")
            problems += 1
            if problems > 10:
                break
    print(f"  {len(ours)} syscalls in the trace, {len(theirs)} from strace, {problems} differences")
    return problems == 0 and len(ours) > 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "writes":
        ok = check_writes(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "strace":
        ok = compare_strace(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
