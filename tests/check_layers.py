#!/usr/bin/env python3
"""The layering rule of hwslice (docs/architecture.md), checked.

Each top-level source folder is one layer and one CMake library. A file may
include headers of its own layer and of the layers its layer depends on,
directly or through others (the table below); nothing else. The shared
headers (SHARED) are dependency-free ABI headers any listed layer may
include. The same table bounds the CMake link graph: a layer's
CMakeLists.txt may link only hwslice_<layer> libraries it may depend on.

Usage: check_layers.py [ROOT]      check the tree at ROOT (default: ..)
       check_layers.py --self-test build trees with a forbidden include and
                                   a forbidden link and assert both fail
Exit status 0 when the tree keeps the rule, 1 with one line per violation
("file:line: ...") otherwise. Python 3 standard library only.
"""
import os
import re
import shutil
import sys
import tempfile

# Lowest first: (layer, the layers it may depend on directly, what it holds).
LAYERS = [
    ("base", [], "Result/Error, UniqueFd, whole-file reads: the project's vocabulary"),
    ("riscv", ["base"], "ISA facts, decoder, encoder, ISA strings, counter-read "
                        "instructions, a process image (/proc maps, vDSO symbols)"),
    ("record", ["base"], "trace records, syscall table/model/format, signal rules, SliceSpec"),
    ("runtime", [], "the freestanding slice runtime (C) and its embedded image"),
    ("ptrace", ["riscv", "record"], "one traced process: Tracee, breakpoints, syscall "
                                    "injection, wait statuses, scheduling, call stacks"),
    ("control", ["ptrace"], "reaching a position: perf counters, calibration, plans, "
                            "stepper, counted fast-forward"),
    ("capture", ["control"], "tracing into records and slice specs: syscall tracer, "
                             "page mode, step mode, slice capture"),
    ("doctor", ["control"], "what the machine and the program allow: probes, report, "
                            "program check"),
    ("slicer", ["riscv", "record", "runtime"], "slice specs into slices: writer, manifest, "
                                               "runner, check, verdict, SimPoint"),
    ("cli", ["capture", "doctor", "slicer", "runtime"], "the hwslice executable"),
]

# Headers any of the listed layers may include whatever the table says.
SHARED = {
    "runtime/slice_abi.h": [name for name, _, _ in LAYERS],
}

# Top-level folders that are not layers (their sources are not checked).
NOT_LAYERS = {"tests", "board", "docs", "build", ".git", ".ci"}

SOURCE_EXT = (".h", ".cc", ".c", ".S", ".inc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
LINK_RE = re.compile(r"target_link_libraries\s*\(([^)]*)\)", re.S)
LIB_RE = re.compile(r"\bhwslice_([a-z0-9_]+)")


def allowed_layers(layers):
    """layer -> the set of layers it may include from (itself included)."""
    direct = {name: deps for name, deps, _ in layers}
    for name, deps in direct.items():
        for d in deps:
            if d not in direct:
                raise SystemExit(f"check_layers: layer {name} depends on unknown layer {d}")
    closure = {}

    def walk(name, seen):
        if name in closure:
            return closure[name]
        if name in seen:
            raise SystemExit(f"check_layers: the layer table has a cycle through {name}")
        out = {name}
        for d in direct[name]:
            out |= walk(d, seen | {name})
        closure[name] = out
        return out

    for name in direct:
        walk(name, set())
    return closure


def check(root, layers=LAYERS, shared=SHARED):
    """Returns the list of violations (strings) of the tree at root."""
    allowed = allowed_layers(layers)
    names = set(allowed)
    errors = []
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry)
        if not os.path.isdir(path) or entry in NOT_LAYERS or entry.startswith("."):
            continue
        has_sources = any(f.endswith(SOURCE_EXT) for _, _, fs in os.walk(path) for f in fs)
        if entry not in names:
            if has_sources:
                errors.append(f"{entry}/: a source folder that is not in the layer table "
                              f"(tests/check_layers.py LAYERS, docs/architecture.md)")
            continue
        ok = allowed[entry]
        for dirpath, _, files in os.walk(path):
            for f in sorted(files):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if f == "CMakeLists.txt":
                    errors += check_links(root, rel, entry, ok, names)
                if not f.endswith(SOURCE_EXT):
                    continue
                with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                    for lineno, line in enumerate(fh, 1):
                        m = INCLUDE_RE.match(line)
                        if not m or "/" not in m.group(1):
                            continue
                        target = m.group(1)
                        layer = target.split("/", 1)[0]
                        if layer not in names or layer in ok:
                            continue
                        if entry in shared.get(target, ()):
                            continue
                        errors.append(
                            f'{rel}:{lineno}: #include "{target}": layer {entry} may not '
                            f"depend on layer {layer} (it may include: "
                            f"{', '.join(sorted(ok))})")
    return errors


def check_links(root, rel, layer, ok, names):
    with open(os.path.join(root, rel), encoding="utf-8") as fh:
        text = fh.read()
    errors = []
    for m in LINK_RE.finditer(text):
        lineno = text.count("\n", 0, m.start()) + 1
        for lib in LIB_RE.findall(m.group(1)):
            if lib in names and lib not in ok:
                errors.append(f"{rel}:{lineno}: links hwslice_{lib}: layer {layer} may not "
                              f"depend on layer {lib} (it may link: "
                              f"{', '.join('hwslice_' + n for n in sorted(ok))})")
    return errors


def self_test():
    """A clean tree passes; an upward include and an upward link fail."""
    made = []

    def tree(files):
        d = tempfile.mkdtemp(prefix="check_layers.")
        made.append(d)
        for rel, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        return d

    clean = {
        "base/result.h": "#pragma once\n",
        "capture/page_tracker.h": '#include "base/result.h"\n#include "runtime/slice_abi.h"\n',
        "slicer/slice_writer.h": '#include "record/slice_spec.h"\n',
        "record/slice_spec.h": '#include "base/result.h"\n',
        "slicer/CMakeLists.txt": "target_link_libraries(hwslice_slicer PUBLIC hwslice_record)\n",
    }
    failures = []
    if check(tree(clean)):
        failures.append(f"a clean tree was rejected: {check(tree(clean))}")
    cases = {
        "an upward include (base -> capture)": (
            {"base/file_bytes.cc": '#include "base/result.h"\n\n#include "capture/page_tracker.h"\n'},
            'base/file_bytes.cc:3: #include "capture/page_tracker.h": layer base may not depend on layer capture'),
        "a sideways include (capture -> slicer)": (
            {"capture/slice_capture.cc": '#include "slicer/slice_writer.h"\n'},
            'capture/slice_capture.cc:1: #include "slicer/slice_writer.h": layer capture may not depend on layer slicer'),
        "a lower library linking an upper one (record -> capture)": (
            {"record/CMakeLists.txt": "add_library(hwslice_record STATIC a.cc)\n"
                                      "target_link_libraries(hwslice_record PUBLIC hwslice_base\n"
                                      "  hwslice_capture)\n"},
            "record/CMakeLists.txt:2: links hwslice_capture: layer record may not depend on layer capture"),
        "a source folder outside the table": (
            {"tracer/tracee.h": "#pragma once\n"},
            "tracer/: a source folder that is not in the layer table"),
    }
    for what, (extra, expected) in cases.items():
        errors = check(tree({**clean, **extra}))
        if not any(e.startswith(expected) for e in errors):
            failures.append(f"{what} was not rejected as expected\n  want: {expected}\n  got:  {errors}")
        else:
            print(f"rejected {what}: {errors[0]}")
    for d in made:
        shutil.rmtree(d, ignore_errors=True)
    for f in failures:
        print(f"check_layers self-test: FAIL: {f}")
    print("check_layers self-test: " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__)
        return 2
    root = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} layering violation(s); the rule and the "
              f"table are in docs/architecture.md")
        return 1
    print(f"check_layers: ok ({len(LAYERS)} layers)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
