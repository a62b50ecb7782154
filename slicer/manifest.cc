#include "slicer/manifest.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <fstream>
#include <sstream>
#include <tuple>

#include "record/trace_record.h"

namespace hwslice {

using nlohmann::json;

namespace {

std::string hex16(uint64_t v) {
  std::string s = to_hex(v);
  return std::string(16 - s.size(), '0') + s;
}

json hex_array(const std::array<uint64_t, 32>& v) {
  json a = json::array();
  for (uint64_t x : v) a.push_back(to_hex(x));
  return a;
}

const char* end_kind_name(SliceSpec::EndKind k) {
  switch (k) {
    case SliceSpec::EndKind::kSyscall: return "syscall";
    case SliceSpec::EndKind::kFault: return "fault";
    case SliceSpec::EndKind::kAfterCall: return "after_call";
    case SliceSpec::EndKind::kCounted: break;
  }
  return "counted";
}

json to_json(const ManifestSlice& s) {
  json j = {{"file", s.file},
            {"start", s.start},
            {"end", s.end},
            {"instructions", s.instructions},
            {"exact", s.exact},
            {"end_kind", end_kind_name(s.end_kind)},
            {"end_pc", to_hex(s.end_pc)},
            {"end_regs",
             {{"pc", to_hex(s.end_regs.pc)},
              {"ints", hex_array(s.end_regs.ints)},
              {"fps", hex_array(s.end_regs.fps)},
              {"fcsr", to_hex(s.end_regs.fcsr)}}},
            {"digest", hex16(s.digest)},
            {"digest_ranges", s.digest_ranges},
            {"replayed_calls", s.replayed_calls},
            {"in_place_sites", s.in_place_sites},
            {"near_stubs", s.near_stubs},
            {"trap_sites", s.trap_sites},
            {"counter_reads", s.counter_reads},
            {"size", s.size},
            {"stdout", bytes_to_hex(s.stdout_bytes)},
            {"stdout_length", s.stdout_bytes.size()},
            {"stderr", bytes_to_hex(s.stderr_bytes)},
            {"stderr_length", s.stderr_bytes.size()}};
  if (s.weight) j["weight"] = *s.weight;
  return j;
}

// Decoding: helpers throw Problem with the message after the location.
struct Problem {
  std::string message;
};

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw Problem{std::string("missing field '") + name + "'"};
  return *it;
}

uint64_t hex_value(const json& v, const std::string& name) {
  if (!v.is_string()) throw Problem{"field '" + name + "' must be a hex string"};
  const std::string& s = v.get_ref<const std::string&>();
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    throw Problem{"field '" + name + "' is not a 64-bit hex number: \"" + s + "\""};
  return out;
}

uint64_t hex_field(const json& j, const char* name) { return hex_value(field(j, name), name); }

std::array<uint64_t, 32> hex_list32(const json& j, const char* name) {
  const json& a = field(j, name);
  if (!a.is_array() || a.size() != 32) throw Problem{std::string("field '") + name + "' must be an array of 32 hex strings"};
  std::array<uint64_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) out[i] = hex_value(a[i], std::string(name) + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<uint8_t> hex_bytes(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) throw Problem{std::string("field '") + name + "' must be a hex string"};
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() % 2) throw Problem{std::string("field '") + name + "' has an odd number of hex digits"};
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    auto [p, ec] = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc() || p != s.data() + 2 * i + 2) throw Problem{std::string("field '") + name + "' is not hex"};
  }
  return out;
}

uint64_t count_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    throw Problem{std::string("field '") + name + "' must be a non-negative integer"};
  return v.get<uint64_t>();
}

bool bool_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_boolean()) throw Problem{std::string("field '") + name + "' must be true or false"};
  return v.get<bool>();
}

std::string string_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) throw Problem{std::string("field '") + name + "' must be a string"};
  return v.get<std::string>();
}

ManifestSlice slice_from_json(const json& j) {
  if (!j.is_object()) throw Problem{"must be a JSON object"};
  ManifestSlice s;
  s.file = string_field(j, "file");
  if (s.file.empty()) throw Problem{"field 'file' is empty"};
  s.start = count_field(j, "start");
  s.end = count_field(j, "end");
  if (s.end < s.start) throw Problem{"'end' " + std::to_string(s.end) + " is before 'start' " + std::to_string(s.start)};
  s.instructions = count_field(j, "instructions");
  if (s.instructions != s.end - s.start)
    throw Problem{"'instructions' is " + std::to_string(s.instructions) + " but end - start is " +
                  std::to_string(s.end - s.start)};
  s.exact = bool_field(j, "exact");
  if (j.contains("weight")) {
    const json& w = j["weight"];
    if (!w.is_number() || w.get<double>() < 0 || w.get<double>() > 1)
      throw Problem{"field 'weight' must be a number from 0 to 1"};
    s.weight = w.get<double>();
  }
  const std::string kind = string_field(j, "end_kind");
  if (kind == "counted")
    s.end_kind = SliceSpec::EndKind::kCounted;
  else if (kind == "syscall")
    s.end_kind = SliceSpec::EndKind::kSyscall;
  else if (kind == "fault")
    s.end_kind = SliceSpec::EndKind::kFault;
  else if (kind == "after_call")
    s.end_kind = SliceSpec::EndKind::kAfterCall;
  else
    throw Problem{"field 'end_kind' must be \"counted\", \"syscall\", \"fault\" or \"after_call\", not \"" + kind +
                  "\""};
  s.end_pc = hex_field(j, "end_pc");
  const json& r = field(j, "end_regs");
  if (!r.is_object()) throw Problem{"field 'end_regs' must be an object"};
  try {
    s.end_regs.pc = hex_field(r, "pc");
    s.end_regs.ints = hex_list32(r, "ints");
    s.end_regs.fps = hex_list32(r, "fps");
    const uint64_t fcsr = hex_field(r, "fcsr");
    if (fcsr > 0xffffffff) throw Problem{"field 'fcsr' exceeds 32 bits"};
    s.end_regs.fcsr = static_cast<uint32_t>(fcsr);
    if (s.end_regs.ints[0] != 0) throw Problem{"x0 must be 0"};
  } catch (const Problem& p) {
    throw Problem{"end_regs: " + p.message};
  }
  const json& d = field(j, "digest");
  if (!d.is_string() || d.get_ref<const std::string&>().size() != 16)
    throw Problem{"field 'digest' must be 16 hex digits"};
  s.digest = hex_value(d, "digest");
  s.digest_ranges = count_field(j, "digest_ranges");
  s.replayed_calls = count_field(j, "replayed_calls");
  s.in_place_sites = count_field(j, "in_place_sites");
  s.near_stubs = count_field(j, "near_stubs");
  s.trap_sites = count_field(j, "trap_sites");
  s.counter_reads = j.contains("counter_reads") ? count_field(j, "counter_reads") : 0;
  s.size = count_field(j, "size");
  for (auto [bytes, len, out] : {std::tuple{"stdout", "stdout_length", &s.stdout_bytes},
                                 std::tuple{"stderr", "stderr_length", &s.stderr_bytes}}) {
    *out = hex_bytes(j, bytes);
    const uint64_t n = count_field(j, len);
    if (n != out->size())
      throw Problem{std::string("'") + len + "' is " + std::to_string(n) + " but '" + bytes + "' holds " +
                    std::to_string(out->size()) + " bytes"};
  }
  return s;
}

}  // namespace

ManifestSlice manifest_slice(const SliceSpec& spec, const SliceFile& slice, std::string file,
                             std::optional<double> weight) {
  ManifestSlice s;
  s.file = std::move(file);
  s.start = spec.start;
  s.end = spec.end;
  s.instructions = spec.end - spec.start;
  s.exact = spec.exact;
  s.weight = weight;
  s.end_kind = spec.end_kind;
  // Where the end mechanism fires: the last event's pc, or the counted pc.
  s.end_pc = spec.end_kind != SliceSpec::EndKind::kCounted && !spec.syscalls.empty() ? spec.syscalls.back().pc
                                                                                     : spec.end_regs.pc;
  s.end_regs.pc = spec.end_regs.pc;
  s.end_regs.ints = spec.end_regs.ints;
  s.end_regs.ints[0] = 0;
  s.end_regs.fps = spec.end_regs.fps;
  s.end_regs.fcsr = spec.end_regs.fcsr;
  s.digest = spec.digest;
  s.digest_ranges = spec.digest_ranges.size();
  s.replayed_calls = slice.summary.replayed_calls;
  s.in_place_sites = slice.summary.in_place_sites;
  s.near_stubs = slice.summary.near_sites;
  s.trap_sites = slice.summary.trap_sites;
  s.counter_reads = slice.summary.counter_reads;
  s.size = slice.summary.file_size;
  s.stdout_bytes = spec.stdout_bytes;
  s.stderr_bytes = spec.stderr_bytes;
  return s;
}

std::string encode_manifest(const Manifest& m) {
  json slices = json::array();
  for (const ManifestSlice& s : m.slices) slices.push_back(to_json(s));
  const json j = {{"hwslice_version", m.hwslice_version},
                  {"program", m.program},
                  {"interval", m.interval},
                  {"mode", m.mode},
                  {"warmup", m.warmup},
                  {"simpoints", m.simpoints},
                  {"slices", slices}};
  return j.dump(2) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text, const std::string& name) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(name + ": not valid JSON");
  Manifest m;
  std::string where = name + ": ";
  try {
    if (!j.is_object()) throw Problem{"the manifest must be a JSON object"};
    m.hwslice_version = string_field(j, "hwslice_version");
    m.program = string_field(j, "program");
    m.interval = count_field(j, "interval");
    m.mode = string_field(j, "mode");
    if (m.mode != "pages" && m.mode != "step")
      throw Problem{"field 'mode' must be \"pages\" or \"step\", not \"" + m.mode + "\""};
    m.warmup = count_field(j, "warmup");
    m.simpoints = string_field(j, "simpoints");
    const json& slices = field(j, "slices");
    if (!slices.is_array()) throw Problem{"field 'slices' must be an array"};
    for (size_t i = 0; i < slices.size(); ++i) {
      where = name + ": slice " + std::to_string(i) + ": ";
      m.slices.push_back(slice_from_json(slices[i]));
    }
  } catch (const Problem& p) {
    return Error(where + p.message);
  } catch (const json::exception& e) {
    return Error(where + "bad value: " + e.what());
  }
  return m;
}

Result<Manifest> read_manifest_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::from_errno("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error::from_errno("cannot read " + path);
  return parse_manifest(text.str(), path);
}

}  // namespace hwslice
