#include "record/trace_record.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>

namespace hwslice {

using nlohmann::json;

std::string hex_addr(uint64_t v) { return "0x" + to_hex(v); }

std::string to_hex(uint64_t v) {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string(buf, end);
}

std::string bytes_to_hex(const std::vector<uint8_t>& data) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

namespace {

json hex_array(const uint64_t* v, size_t n) {
  json a = json::array();
  for (size_t i = 0; i < n; ++i) a.push_back(to_hex(v[i]));
  return a;
}

json to_json(const SyscallRecord& r) {
  json writes = json::array();
  for (const auto& w : r.writes) writes.push_back({{"addr", to_hex(w.addr)}, {"data", bytes_to_hex(w.data)}});
  return {{"type", "syscall"}, {"index", r.index}, {"nr", r.nr}, {"name", r.name},
          {"args", hex_array(r.args.data(), r.args.size())}, {"ret", to_hex(r.ret)}, {"pc", to_hex(r.pc)},
          {"writes", writes}};
}

json to_json(const RegsRecord& r) {
  json j = {{"type", "regs"}, {"at", r.at}, {"pc", to_hex(r.pc)}, {"ints", hex_array(r.ints.data(), 32)},
            {"fps", hex_array(r.fps.data(), 32)}, {"fcsr", to_hex(r.fcsr)}};
  if (r.icount) j["icount"] = *r.icount;
  if (!r.mode.empty()) {
    j["mode"] = r.mode;
    j["exact"] = r.exact;
  }
  return j;
}

json to_json(const NoteRecord& r) {
  return {{"type", "note"}, {"kind", r.kind}, {"addr", to_hex(r.addr)}, {"size", r.size}, {"detail", r.detail}};
}

json to_json(const ExitRecord& r) {
  return {{"type", "exit"}, {"status", r.status}, {"signal", r.signal}, {"core", r.core}};
}

json to_json(const PagesRecord& r) {
  json pages = json::array();
  for (const TouchedPage& p : r.pages)
    pages.push_back({{"addr", to_hex(p.addr)}, {"kind", p.kind}, {"digest", to_hex(p.digest)}});
  return {{"type", "pages"}, {"interval", r.interval}, {"start", r.start}, {"end", r.end}, {"pages", pages}};
}

json to_json(const InstRecord& r) {
  // The seed's form: the encoding as a number, 4 hex digits when compressed.
  char word[9];
  std::snprintf(word, sizeof word, r.length == 2 ? "%04x" : "%08x", r.word);
  return {{"type", "inst"}, {"pc", to_hex(r.pc)}, {"inst", word}};
}

json to_json(const AccessRecord& r) {
  return {{"type", r.write ? "write" : "read"}, {"addr", to_hex(r.addr)}, {"data", bytes_to_hex(r.data)}};
}

json to_json(const CounterRecord& r) {
  return {{"type", "counter"}, {"pc", to_hex(r.pc)}, {"csr", r.csr}, {"rd", r.rd}, {"value", to_hex(r.value)}};
}

// Decoding helpers: each throws DecodeError with the field name.
struct DecodeError {
  std::string message;
};

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw DecodeError{std::string("missing field \"") + name + "\""};
  return *it;
}

uint64_t hex_value(const json& v, const char* name) {
  if (!v.is_string()) throw DecodeError{std::string("field \"") + name + "\" must be a hex string"};
  const std::string& s = v.get_ref<const std::string&>();
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    throw DecodeError{std::string("field \"") + name + "\" is not a 64-bit hex number: \"" + s + "\""};
  return out;
}

uint64_t hex_field(const json& j, const char* name) { return hex_value(field(j, name), name); }

std::vector<uint8_t> hex_bytes(const json& v) {
  if (!v.is_string()) throw DecodeError{"field \"data\" must be a hex string"};
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() % 2) throw DecodeError{"field \"data\" has an odd number of hex digits"};
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    auto [p, ec] = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc() || p != s.data() + 2 * i + 2) throw DecodeError{"field \"data\" is not hex"};
  }
  return out;
}

template <size_t N>
std::array<uint64_t, N> hex_list(const json& j, const char* name) {
  const json& a = field(j, name);
  if (!a.is_array() || a.size() != N)
    throw DecodeError{std::string("field \"") + name + "\" must be an array of " + std::to_string(N) + " hex strings"};
  std::array<uint64_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = hex_value(a[i], name);
  return out;
}

template <typename T>
T number_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_integer()) throw DecodeError{std::string("field \"") + name + "\" must be an integer"};
  return v.get<T>();
}

std::string string_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) throw DecodeError{std::string("field \"") + name + "\" must be a string"};
  return v.get<std::string>();
}

TraceRecord decode_json(const json& j) {
  if (!j.is_object()) throw DecodeError{"a record must be a JSON object"};
  const std::string type = string_field(j, "type");
  if (type == "syscall") {
    SyscallRecord r;
    r.index = number_field<uint64_t>(j, "index");
    r.nr = number_field<long>(j, "nr");
    r.name = string_field(j, "name");
    r.args = hex_list<6>(j, "args");
    r.ret = hex_field(j, "ret");
    r.pc = hex_field(j, "pc");
    const json& writes = field(j, "writes");
    if (!writes.is_array()) throw DecodeError{"field \"writes\" must be an array"};
    for (const json& w : writes) {
      if (!w.is_object()) throw DecodeError{"each write must be an object"};
      r.writes.push_back({hex_field(w, "addr"), hex_bytes(field(w, "data"))});
    }
    return r;
  }
  if (type == "regs") {
    RegsRecord r;
    r.at = string_field(j, "at");
    r.pc = hex_field(j, "pc");
    r.ints = hex_list<32>(j, "ints");
    r.fps = hex_list<32>(j, "fps");
    uint64_t fcsr = hex_field(j, "fcsr");
    if (fcsr > 0xffffffff) throw DecodeError{"field \"fcsr\" exceeds 32 bits"};
    r.fcsr = static_cast<uint32_t>(fcsr);
    if (r.ints[0] != 0) throw DecodeError{"x0 must be 0"};
    if (j.contains("icount")) r.icount = number_field<uint64_t>(j, "icount");
    if (j.contains("mode")) {
      r.mode = string_field(j, "mode");
      const json& exact = field(j, "exact");
      if (!exact.is_boolean()) throw DecodeError{"field \"exact\" must be true or false"};
      r.exact = exact.get<bool>();
    }
    return r;
  }
  if (type == "note") {
    NoteRecord r;
    r.kind = string_field(j, "kind");
    r.addr = hex_field(j, "addr");
    r.size = number_field<uint64_t>(j, "size");
    r.detail = string_field(j, "detail");
    return r;
  }
  if (type == "exit") {
    ExitRecord r;
    r.status = number_field<int>(j, "status");
    r.signal = number_field<int>(j, "signal");
    const json& core = field(j, "core");
    if (!core.is_boolean()) throw DecodeError{"field \"core\" must be true or false"};
    r.core = core.get<bool>();
    return r;
  }
  if (type == "pages") {
    PagesRecord r;
    r.interval = number_field<uint64_t>(j, "interval");
    r.start = number_field<uint64_t>(j, "start");
    r.end = number_field<uint64_t>(j, "end");
    const json& pages = field(j, "pages");
    if (!pages.is_array()) throw DecodeError{"field \"pages\" must be an array"};
    for (const json& p : pages) {
      if (!p.is_object()) throw DecodeError{"each page must be an object"};
      TouchedPage t{hex_field(p, "addr"), string_field(p, "kind"), hex_field(p, "digest")};
      if (t.kind.empty() || t.kind.find_first_not_of("rwxk") != std::string::npos)
        throw DecodeError{"field \"kind\" must be letters of rwxk"};
      r.pages.push_back(std::move(t));
    }
    return r;
  }
  if (type == "inst") {
    InstRecord r;
    r.pc = hex_field(j, "pc");
    const json& word = field(j, "inst");
    if (!word.is_string() || (word.get_ref<const std::string&>().size() != 4 &&
                              word.get_ref<const std::string&>().size() != 8))
      throw DecodeError{"field \"inst\" must be 4 or 8 hex digits"};
    r.length = word.get_ref<const std::string&>().size() / 2;
    r.word = static_cast<uint32_t>(hex_value(word, "inst"));
    return r;
  }
  if (type == "read" || type == "write") {
    AccessRecord r;
    r.write = type == "write";
    r.addr = hex_field(j, "addr");
    r.data = hex_bytes(field(j, "data"));
    return r;
  }
  if (type == "counter") {
    CounterRecord r;
    r.pc = hex_field(j, "pc");
    r.csr = string_field(j, "csr");
    if (r.csr != "cycle" && r.csr != "time" && r.csr != "instret")
      throw DecodeError{"field \"csr\" must be cycle, time or instret"};
    r.rd = number_field<unsigned>(j, "rd");
    if (r.rd == 0 || r.rd > 31) throw DecodeError{"field \"rd\" must be a register 1..31"};
    r.value = hex_field(j, "value");
    return r;
  }
  throw DecodeError{"unknown record type \"" + type + "\""};
}

}  // namespace

SyscallRecord counter_read_call(const CounterRecord& r, uint64_t index) {
  SyscallRecord c;
  c.index = index;
  c.nr = kCounterReadNr;
  c.name = "rd" + r.csr;
  c.args[0] = r.rd;
  c.args[1] = r.csr == "cycle" ? 0xc00 : r.csr == "time" ? 0xc01 : 0xc02;
  c.ret = r.value;
  c.pc = r.pc;
  return c;
}

namespace {

// The pages record written directly, byte for byte what to_json(r).dump()
// gives (keys in the sorted order of json objects): page mode writes one
// with hundreds of pages per interval, and building them as json objects
// cost several times more than the rest of the record's work.
std::string encode_pages(const PagesRecord& r) {
  std::string s;
  s.reserve(96 + r.pages.size() * 64);
  s += "{\"end\":" + std::to_string(r.end) + ",\"interval\":" + std::to_string(r.interval) + ",\"pages\":[";
  for (size_t i = 0; i < r.pages.size(); ++i) {
    const TouchedPage& p = r.pages[i];
    if (i) s += ',';
    s += "{\"addr\":\"";
    s += to_hex(p.addr);
    s += "\",\"digest\":\"";
    s += to_hex(p.digest);
    s += "\",\"kind\":";
    if (p.kind.find_first_not_of("rwxk") == std::string::npos) s += '"' + p.kind + '"';
    else s += json(p.kind).dump();  // not ours: escaped as json would
    s += '}';
  }
  s += "],\"start\":" + std::to_string(r.start) + ",\"type\":\"pages\"}";
  return s;
}

}  // namespace

std::string encode(const TraceRecord& record) {
  if (const auto* pages = std::get_if<PagesRecord>(&record)) return encode_pages(*pages);
  return std::visit([](const auto& r) { return to_json(r).dump(); }, record);
}

Result<TraceRecord> decode(const std::string& line, size_t line_number) {
  const std::string where = "line " + std::to_string(line_number) + ": ";
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(where + "not valid JSON");
  try {
    return decode_json(j);
  } catch (const DecodeError& e) {
    return Error(where + e.message);
  } catch (const json::exception& e) {
    return Error(where + "bad value: " + e.what());
  }
}

Result<std::vector<TraceRecord>> read_trace(std::istream& in) {
  std::vector<TraceRecord> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto r = decode(line, n);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  if (in.bad()) return Error("reading the trace failed");
  return out;
}

}  // namespace hwslice
