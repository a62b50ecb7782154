#!/usr/bin/env python3
"""Checks a step-mode trace against itself, the hardware and page mode.

  step_check.py STEP.jsonl STEP.err PAGES.jsonl PROFILE [KEEP PAGES0.jsonl [LABEL]]

Prints one "name: value" line per fact and exits 1 (after printing every
"FAIL ..." line) when a check fails:
  - the inst records count exactly the instructions the tracer reports, and
    every interval boundary's regs record sits at that many inst records;
  - each step-mode pages record lists exactly the pages its interval's
    inst/read/write/syscall records touch (recomputed here from the stream);
  - k1: the hardware's instructions:u equals the count with the tracer's own
    work taken out (stepped + the exit call - emulated + breakpoint traps),
    an independent check of the count;
  - page mode saw every page step mode saw, per page-mode interval where its
    positions are exact (counter "user") and over the whole run otherwise,
    and every page step mode executed page mode recorded as executed;
  - with KEEP (PAGES.jsonl traced with --keep-pages KEEP) and PAGES0.jsonl
    (the same run with nothing kept): a kept page is one touched in the
    last KEEP intervals, or kept on because it changed in the last one (so
    was touched there too): each interval lists no page outside what
    PAGES0 lists for it and the KEEP intervals before it (k1, per
    interval; elsewhere over the whole run). LABEL names the check
    ("--keep-pages KEEP" by default; fault-around is checked the same way
    with KEEP 1 and PAGES0.jsonl traced with --fault-around 0). The two
    runs' intervals are matched by position, not by index: their stops,
    and so their interval ends, differ.
"""
import json
import re
import sys

PAGE = 4096


def pages_of(addr, length):
    first = addr & ~(PAGE - 1)
    last = (addr + max(length, 1) - 1) & ~(PAGE - 1)
    return range(first, last + PAGE, PAGE)


def main():
    step_path, err_path, pages_path, profile = sys.argv[1:5]
    keep = int(sys.argv[5]) if len(sys.argv) > 6 else None
    label = sys.argv[7] if len(sys.argv) > 7 else f"--keep-pages {keep}"
    bad = []
    # touched[i]: (page, kind) pairs of instruction i (its fetch, accesses
    # and, for an ecall, the syscall's writes).
    touched = []
    boundaries = []
    step_pages = []
    with open(step_path) as f:
        for line in f:
            r = json.loads(line)
            t = r["type"]
            if t == "inst":
                pc = int(r["pc"], 16)
                touched.append([(p, "x") for p in pages_of(pc, len(r["inst"]) // 2)])
            elif t in ("read", "write"):
                addr = int(r["addr"], 16)
                touched[-1] += [(p, t[0]) for p in pages_of(addr, len(r["data"]) // 2)]
            elif t == "syscall":
                for w in r["writes"]:
                    touched[-1] += [(p, "k") for p in pages_of(int(w["addr"], 16), len(w["data"]) // 2)]
            elif t == "regs" and r["at"] == "interval":
                boundaries.append((r["icount"], len(touched), r["exact"]))
            elif t == "pages":
                step_pages.append(r)
    n = len(touched)
    err = open(err_path).read()
    m = re.search(r"stepped (\d+) instructions \((exact|NOT exact)[^)]*\), (\d+) syscalls; (\d+) breakpoint traps, "
                  r"(\d+) emulated jumps(?:; hardware instructions:u (\d+))?", err)
    if not m:
        print("FAIL no summary line in", err_path)
        return 1
    stepped, exact, traps, emulated = int(m[1]), m[2] == "exact", int(m[4]), int(m[5])
    hardware = int(m[6]) if m[6] else None
    print(f"instructions stepped: {stepped}, inst records: {n - 1} + the exit call")
    # The exit call is recorded (it is run) but not counted (it never completes).
    if n != stepped + 1:
        bad.append(f"inst records {n} != stepped {stepped} + 1 (exit call)")
    if not exact:
        bad.append("the step trace is not exact")
    for icount, at, ok in boundaries:
        if icount != at:
            bad.append(f"boundary regs at icount {icount} follow {at} inst records")
    print(f"boundaries: {len(boundaries)}, step-mode intervals: {len(step_pages)}")

    # Step mode's own pages records against the stream.
    for rec in step_pages:
        want = {}
        for i in range(rec["start"], min(rec["end"] + 1, n) if rec is step_pages[-1] else rec["end"]):
            for p, k in touched[i]:
                want.setdefault(p, set()).add(k)
        got = {int(p["addr"], 16): set(p["kind"]) for p in rec["pages"]}
        if got != want:
            bad.append(f"step interval {rec['interval']}: pages record differs from its records "
                       f"({len(got)} vs {len(want)} pages)")

    if hardware is not None:
        # The CPU also retires the exit call (stepped does not count it) and,
        # in the virtual board, each trapping ebreak; it never runs the
        # branches the tracer performed.
        expected = stepped + 1 - emulated + traps
        print(f"hardware instructions:u {hardware}; stepped + 1 (exit call) - emulated + traps = {expected}")
        if profile == "k1" and hardware != expected:
            bad.append(f"hardware count {hardware} != {expected}")
    elif profile == "k1":
        bad.append("k1 has user-only counting, but no hardware count was reported")

    # Page mode.
    page_recs, counter_exact = [], True
    with open(pages_path) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "pages":
                page_recs.append(r)
            elif r["type"] == "regs" and r.get("at") == "interval" and not r["exact"]:
                counter_exact = False
    if not page_recs:
        bad.append("page mode wrote no pages records")
    last_end = page_recs[-1]["end"] if page_recs else None
    print(f"page mode: {len(page_recs)} intervals, positions {'exact' if counter_exact else 'inexact'}, "
          f"last ends at {last_end}")
    if profile == "k1" and last_end != stepped:
        bad.append(f"page mode's last interval ends at {last_end}, step mode counts {stepped} to the exit call")
    missing_total = 0
    x_missing = 0
    if profile == "k1":
        for rec in page_recs:
            got = {int(p["addr"], 16): p["kind"] for p in rec["pages"]}
            want = {}
            # The last interval ends at the exit call, which it includes.
            for i in range(rec["start"], min(rec["end"] + 1, n) if rec is page_recs[-1] else rec["end"]):
                for p, k in touched[i]:
                    want.setdefault(p, set()).add(k)
            missing = sorted(set(want) - set(got))
            missing_total += len(missing)
            x_missing += sum(1 for p in want if "x" in want[p] and p in got and "x" not in got[p])
            if missing:
                bad.append(f"page interval {rec['interval']} [{rec['start']}, {rec['end']}): step mode saw "
                           f"{len(missing)} pages page mode did not, e.g. {hex(missing[0])}")
        print(f"per-interval comparison: {len(page_recs)} intervals, {missing_total} pages missing in page mode")
    else:
        got, want = {}, {}
        for rec in page_recs:
            for p in rec["pages"]:
                got.setdefault(int(p["addr"], 16), set()).update(p["kind"])
        for t in touched:
            for p, k in t:
                want.setdefault(p, set()).add(k)
        missing = sorted(set(want) - set(got))
        missing_total = len(missing)
        x_missing = sum(1 for p in want if "x" in want[p] and p in got and "x" not in got[p])
        print(f"whole-run comparison (page-mode positions inexact here): {len(want)} step pages, "
              f"{missing_total} missing in page mode")
        if missing:
            bad.append(f"step mode saw {len(missing)} pages page mode never recorded, e.g. {hex(missing[0])}")
    if x_missing:
        bad.append(f"{x_missing} pages step mode executed are not marked x by page mode")

    if keep is not None:
        base, base_spans = [], []
        with open(sys.argv[6]) as f:
            for line in f:
                r = json.loads(line)
                if r["type"] == "pages":
                    base.append({int(p["addr"], 16) for p in r["pages"]})
                    base_spans.append((r["start"], r["end"]))
        kept_recs = [{int(p["addr"], 16) for p in r["pages"]} for r in page_recs]
        extra_total = 0
        if profile == "k1":
            # The two runs end their intervals at the first stop at or after
            # each boundary, and stops differ between them (fault-around
            # makes fewer), so interval i of one is not interval i of the
            # other: the window is matched by positions (exact on k1). Its
            # allowed pages are those of the runs' intervals that overlap
            # positions [start of interval i - keep, end of interval i), the
            # same intervals as by index where the boundaries agree.
            for i, pages in enumerate(kept_recs):
                lo, hi = page_recs[max(0, i - keep)]["start"], page_recs[i]["end"]
                allowed = set().union(*(b for b, (s, e) in zip(base, base_spans) if s < hi and e > lo))
                extra = sorted(pages - allowed)
                extra_total += len(extra)
                if extra:
                    bad.append(f"{label}: interval {i} lists {len(extra)} pages not touched in it or "
                               f"the {keep} before it, e.g. {hex(extra[0])}")
            print(f"{label}: {sum(map(len, kept_recs))} pages over {len(kept_recs)} intervals "
                  f"({sum(map(len, base))} without it), {extra_total} outside the last {keep + 1} intervals' "
                  f"touches")
        else:
            extra = sorted(set().union(*kept_recs) - set().union(*base)) if kept_recs and base else []
            print(f"{label}: {len(extra)} pages never touched in the run without it")
            if extra:
                bad.append(f"{label}: {len(extra)} pages never touched without it, "
                           f"e.g. {hex(extra[0])}")
    for b in bad:
        print("FAIL", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
