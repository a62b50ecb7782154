#include "slicer/manifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "slicer/slice_test_program.h"

namespace hwslice {
namespace {

using nlohmann::json;

Manifest sample() {
  Manifest m;
  m.hwslice_version = "0.1.0";
  m.program = "/usr/bin/xz";
  m.interval = 100000000;
  m.mode = "pages";
  m.warmup = 5000;
  m.simpoints = "xz.simpoints";
  ManifestSlice a;
  a.file = "xz.3.slice";
  a.start = 300000000;
  a.end = 400000000;
  a.instructions = 100000000;
  a.exact = true;
  a.weight = 0.123456789012345678;
  a.end_kind = SliceSpec::EndKind::kCounted;
  a.end_pc = 0x10abc;
  a.end_regs.pc = 0x10abc;
  for (size_t i = 1; i < 32; ++i) a.end_regs.ints[i] = 0x1000 * i + i;
  a.end_regs.fps[3] = 0xfff8000000000000;
  a.end_regs.fcsr = 0x81;
  a.digest = 0x00ab00cd00ef0012;
  a.digest_ranges = 7;
  a.replayed_calls = 12;
  a.in_place_sites = 2;
  a.near_stubs = 3;
  a.trap_sites = 1;
  a.counter_reads = 4;
  a.size = 1234567;
  a.stdout_bytes = {'h', 'i', '\n', 0, 0xff};
  ManifestSlice b;
  b.file = "xz.9.slice";
  b.start = 900;
  b.end = 950;
  b.instructions = 50;
  b.exact = false;
  b.end_kind = SliceSpec::EndKind::kSyscall;
  b.end_pc = 0x7fff1234;
  b.end_regs.pc = 0x7fff1234;
  b.stderr_bytes = {'e'};
  m.slices = {a, b};
  return m;
}

TEST(Manifest, RoundTrip) {
  const Manifest m = sample();
  const std::string text = encode_manifest(m);
  auto back = parse_manifest(text, "xz.manifest.json");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->slices[0].weight, 0.123456789012345678);
  EXPECT_FALSE(back->slices[1].weight.has_value());
  EXPECT_EQ(text.back(), '\n');
  // Manifests written before counter reads were replayed have no
  // "counter_reads": none.
  json j = json::parse(text);
  j["slices"][0].erase("counter_reads");
  auto old = parse_manifest(j.dump(), "xz.manifest.json");
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_EQ(old->slices[0].counter_reads, 0u);
  EXPECT_EQ(old->slices[0].trap_sites, 1u);
}

TEST(Manifest, FieldSpelling) {
  const json j = json::parse(encode_manifest(sample()));
  EXPECT_EQ(j["hwslice_version"], "0.1.0");
  EXPECT_EQ(j["program"], "/usr/bin/xz");
  EXPECT_EQ(j["interval"], 100000000);
  EXPECT_EQ(j["mode"], "pages");
  EXPECT_EQ(j["warmup"], 5000);
  EXPECT_EQ(j["simpoints"], "xz.simpoints");
  const json& s = j["slices"][0];
  EXPECT_EQ(s["file"], "xz.3.slice");
  EXPECT_EQ(s["start"], 300000000);
  EXPECT_EQ(s["end"], 400000000);
  EXPECT_EQ(s["instructions"], 100000000);
  EXPECT_EQ(s["exact"], true);
  EXPECT_EQ(s["end_kind"], "counted");
  EXPECT_EQ(s["end_pc"], "10abc");
  EXPECT_EQ(s["end_regs"]["pc"], "10abc");
  EXPECT_EQ(s["end_regs"]["ints"][0], "0");
  EXPECT_EQ(s["end_regs"]["ints"][31], "1f01f");
  EXPECT_EQ(s["end_regs"]["fps"][3], "fff8000000000000");
  EXPECT_EQ(s["end_regs"]["fcsr"], "81");
  EXPECT_EQ(s["digest"], "00ab00cd00ef0012");
  EXPECT_EQ(s["digest_ranges"], 7);
  EXPECT_EQ(s["replayed_calls"], 12);
  EXPECT_EQ(s["in_place_sites"], 2);
  EXPECT_EQ(s["near_stubs"], 3);
  EXPECT_EQ(s["trap_sites"], 1);
  EXPECT_EQ(s["counter_reads"], 4);
  EXPECT_EQ(s["size"], 1234567);
  EXPECT_EQ(s["stdout"], "68690a00ff");
  EXPECT_EQ(s["stdout_length"], 5);
  EXPECT_EQ(s["stderr"], "");
  EXPECT_EQ(s["stderr_length"], 0);
  EXPECT_TRUE(s.contains("weight"));
  EXPECT_FALSE(j["slices"][1].contains("weight"));
  EXPECT_EQ(j["slices"][1]["end_kind"], "syscall");
}

// Each mutation of slice 1 of the encoded sample and the exact error.
struct Mutation {
  const char* what;
  void (*apply)(json&);
  const char* error;
};

TEST(Manifest, PreciseErrors) {
  const Mutation cases[] = {
      {"no end", [](json& s) { s.erase("end"); }, "P.manifest.json: slice 1: missing field 'end'"},
      {"end before start", [](json& s) { s["end"] = 10; },
       "P.manifest.json: slice 1: 'end' 10 is before 'start' 900"},
      {"instructions", [](json& s) { s["instructions"] = 49; },
       "P.manifest.json: slice 1: 'instructions' is 49 but end - start is 50"},
      {"negative", [](json& s) { s["size"] = -1; },
       "P.manifest.json: slice 1: field 'size' must be a non-negative integer"},
      {"kind", [](json& s) { s["end_kind"] = "counter"; },
       "P.manifest.json: slice 1: field 'end_kind' must be \"counted\", \"syscall\", \"fault\" or \"after_call\", not "
       "\"counter\""},
      {"pc", [](json& s) { s["end_pc"] = "0x12"; },
       "P.manifest.json: slice 1: field 'end_pc' is not a 64-bit hex number: \"0x12\""},
      {"ints", [](json& s) { s["end_regs"]["ints"].erase(0); },
       "P.manifest.json: slice 1: end_regs: field 'ints' must be an array of 32 hex strings"},
      {"int value", [](json& s) { s["end_regs"]["ints"][5] = 5; },
       "P.manifest.json: slice 1: end_regs: field 'ints[5]' must be a hex string"},
      {"x0", [](json& s) { s["end_regs"]["ints"][0] = "1"; },
       "P.manifest.json: slice 1: end_regs: x0 must be 0"},
      {"fcsr", [](json& s) { s["end_regs"]["fcsr"] = "100000000"; },
       "P.manifest.json: slice 1: end_regs: field 'fcsr' exceeds 32 bits"},
      {"digest", [](json& s) { s["digest"] = "abc"; },
       "P.manifest.json: slice 1: field 'digest' must be 16 hex digits"},
      {"stderr hex", [](json& s) { s["stderr"] = "6"; },
       "P.manifest.json: slice 1: field 'stderr' has an odd number of hex digits"},
      {"stderr length", [](json& s) { s["stderr_length"] = 2; },
       "P.manifest.json: slice 1: 'stderr_length' is 2 but 'stderr' holds 1 bytes"},
      {"weight", [](json& s) { s["weight"] = "half"; },
       "P.manifest.json: slice 1: field 'weight' must be a number from 0 to 1"},
      {"counter reads", [](json& s) { s["counter_reads"] = "4"; },
       "P.manifest.json: slice 1: field 'counter_reads' must be a non-negative integer"},
      {"exact", [](json& s) { s["exact"] = 1; },
       "P.manifest.json: slice 1: field 'exact' must be true or false"},
      {"not object", [](json& s) { s = json::array(); }, "P.manifest.json: slice 1: must be a JSON object"},
  };
  for (const Mutation& c : cases) {
    json j = json::parse(encode_manifest(sample()));
    c.apply(j["slices"][1]);
    auto r = parse_manifest(j.dump(), "P.manifest.json");
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().message(), c.error) << c.what;
  }
}

TEST(Manifest, TopLevelErrors) {
  EXPECT_EQ(parse_manifest("{", "m.json").error().message(), "m.json: not valid JSON");
  EXPECT_EQ(parse_manifest("[]", "m.json").error().message(), "m.json: the manifest must be a JSON object");
  json j = json::parse(encode_manifest(sample()));
  j.erase("interval");
  EXPECT_EQ(parse_manifest(j.dump(), "m.json").error().message(), "m.json: missing field 'interval'");
  j = json::parse(encode_manifest(sample()));
  j["mode"] = "block";
  EXPECT_EQ(parse_manifest(j.dump(), "m.json").error().message(),
            "m.json: field 'mode' must be \"pages\" or \"step\", not \"block\"");
  j["mode"] = "step";
  j["slices"] = json::object();
  EXPECT_EQ(parse_manifest(j.dump(), "m.json").error().message(), "m.json: field 'slices' must be an array");
}

TEST(Manifest, FromSpecAndSlice) {
  const SliceSpec spec = test_program::make_spec(test_program::End::kExit);
  SliceFile f;
  f.summary.replayed_calls = 3;
  f.summary.in_place_sites = 1;
  f.summary.near_sites = 4;
  f.summary.trap_sites = 0;
  f.summary.file_size = 32768;
  const ManifestSlice s = manifest_slice(spec, f, "prog.0.slice", 0.5);
  EXPECT_EQ(s.file, "prog.0.slice");
  EXPECT_EQ(s.start, 1000u);
  EXPECT_EQ(s.end, 1043u);
  EXPECT_EQ(s.instructions, 43u);
  EXPECT_TRUE(s.exact);
  EXPECT_EQ(s.weight, 0.5);
  EXPECT_EQ(s.end_kind, SliceSpec::EndKind::kSyscall);
  EXPECT_EQ(s.end_pc, test_program::kSiteExit);
  EXPECT_EQ(s.end_regs.pc, test_program::kSiteExit);
  EXPECT_EQ(s.end_regs.ints[9], 5u);
  EXPECT_EQ(s.end_regs.fps[1], 0x400921fb54442d18u);
  EXPECT_EQ(s.end_regs.fcsr, 0x20u);
  EXPECT_EQ(s.digest, spec.digest);
  EXPECT_EQ(s.digest_ranges, 2u);
  EXPECT_EQ(s.replayed_calls, 3u);
  EXPECT_EQ(s.in_place_sites, 1u);
  EXPECT_EQ(s.near_stubs, 4u);
  EXPECT_EQ(s.size, 32768u);
  EXPECT_EQ(s.stdout_bytes, (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'}));
  EXPECT_EQ(s.stderr_bytes, (std::vector<uint8_t>{'e', 'r', 'r', '\n'}));

  Manifest m;
  m.hwslice_version = "0.1.0";
  m.program = spec.program;
  m.slices = {s};
  auto back = parse_manifest(encode_manifest(m), "x");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, m);
}

TEST(Manifest, ReadFile) {
  const std::string path = ::testing::TempDir() + "/manifest_test.manifest.json";
  {
    std::ofstream out(path);
    out << encode_manifest(sample());
  }
  auto m = read_manifest_file(path);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(*m, sample());
  std::remove(path.c_str());
  auto missing = read_manifest_file(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "cannot open " + path + ": No such file or directory");
}

}  // namespace
}  // namespace hwslice
