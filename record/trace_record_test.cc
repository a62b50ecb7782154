#include "record/trace_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <sstream>

namespace hwslice {
namespace {

SyscallRecord sample_syscall() {
  SyscallRecord r;
  r.index = 7;
  r.nr = 63;
  r.name = "read";
  r.args = {3, 0x7fff0000, 4096, 0, 0, 0};
  r.ret = static_cast<uint64_t>(-2);
  r.pc = 0x10abc;
  r.writes = {{0x59ac8, {0x22, 0x87, 0x66, 0x10}}, {0x59acc, {}}};
  return r;
}

RegsRecord sample_regs() {
  RegsRecord r;
  r.at = "entry";
  r.pc = 0x200708;
  for (unsigned i = 1; i < 32; ++i) r.ints[i] = 0x1000 * i;
  r.fps[3] = 0x3ff0000000000000;
  r.fcsr = 0xe0;
  r.icount = 12345;
  r.mode = "step";
  r.exact = false;
  return r;
}

TEST(TraceRecordTest, RoundTripsEveryRecordType) {
  std::vector<TraceRecord> records = {sample_syscall(), sample_regs(), NoteRecord{"vdso", 0x7fff1000, 8192, "x"},
                                      ExitRecord{3, 0, false}, ExitRecord{0, 11, true},
                                      PagesRecord{2, 200, 315, {{0x10000, "x", 0x1234}, {0x7fff0000, "rwk", 0}}},
                                      InstRecord{0x101da, 0x641c, 2}, InstRecord{0x101e8, 0x3b1180ef, 4},
                                      InstRecord{0x10000, 0x13, 4},
                                      AccessRecord{false, 0xfffffff8f0, {0, 0x20, 0, 0x80, 0, 0, 0, 0}},
                                      AccessRecord{true, 0xfffffff7c0, {0x50, 0x27}}, AccessRecord{false, 0x1000, {}},
                                      CounterRecord{0x10a2e, "time", 15, 0x1d2c3b4a59687}};
  for (const auto& rec : records) {
    std::string line = encode(rec);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = decode(line, 1);
    ASSERT_TRUE(back) << back.error().message() << " for " << line;
    EXPECT_EQ(*back, rec) << line;
  }
}

TEST(TraceRecordTest, PagesRecordIsWrittenAsJsonWouldWriteIt) {
  // encode() writes pages records directly (for speed): the same bytes as
  // nlohmann::json's dump of the same object.
  const PagesRecord r{7, 100, 2000, {{0x10000, "x", 0x1234}, {0x7fff0000, "rwk", 0}, {0x20000, "a\"b", 1}}};
  const std::string line = encode(r);
  EXPECT_EQ(line,
            R"({"end":2000,"interval":7,"pages":[{"addr":"10000","digest":"1234","kind":"x"},)"
            R"({"addr":"7fff0000","digest":"0","kind":"rwk"},{"addr":"20000","digest":"1","kind":"a\"b"}],)"
            R"("start":100,"type":"pages"})");
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j.dump(), line);
  EXPECT_EQ(encode(PagesRecord{0, 0, 0, {}}), R"({"end":0,"interval":0,"pages":[],"start":0,"type":"pages"})");
}

TEST(TraceRecordTest, UsesTheSeedsHexConventions) {
  std::string line = encode(sample_syscall());
  EXPECT_NE(line.find(R"("type":"syscall")"), std::string::npos);
  EXPECT_NE(line.find(R"("ret":"fffffffffffffffe")"), std::string::npos);
  EXPECT_NE(line.find(R"({"addr":"59ac8","data":"22876610"})"), std::string::npos);
  EXPECT_NE(line.find(R"("pc":"10abc")"), std::string::npos);
  // Step mode's records as in the seed: the encoding as a number.
  EXPECT_EQ(encode(InstRecord{0x101da, 0x641c, 2}), R"({"inst":"641c","pc":"101da","type":"inst"})");
  EXPECT_EQ(encode(InstRecord{0x10000, 0x13, 4}), R"({"inst":"00000013","pc":"10000","type":"inst"})");
  EXPECT_EQ(encode(AccessRecord{true, 0xfffffff7c0, {0x50, 0x27, 0xff, 0xff}}),
            R"({"addr":"fffffff7c0","data":"5027ffff","type":"write"})");
  EXPECT_EQ(encode(CounterRecord{0x10a2e, "time", 10, 0x5f5e100}),
            R"({"csr":"time","pc":"10a2e","rd":10,"type":"counter","value":"5f5e100"})");
}

TEST(TraceRecordTest, CounterReadsJoinTheReplaySequence) {
  const SyscallRecord c = counter_read_call(CounterRecord{0x10a2e, "instret", 12, 777}, 4);
  EXPECT_TRUE(is_counter_read(c));
  EXPECT_FALSE(is_counter_read(sample_syscall()));
  EXPECT_EQ(c.name, "rdinstret");
  EXPECT_EQ(c.index, 4u);
  EXPECT_EQ(c.args[0], 12u);
  EXPECT_EQ(c.args[1], 0xc02u);
  EXPECT_EQ(c.ret, 777u);
  EXPECT_EQ(c.pc, 0x10a2eu);
  EXPECT_TRUE(c.writes.empty());
}

TEST(TraceRecordTest, BadInputGivesClearErrors) {
  auto err = [](const std::string& line) {
    auto r = decode(line, 12);
    return r ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(err("{not json"), "line 12: not valid JSON");
  EXPECT_EQ(err("[1,2]"), "line 12: a record must be a JSON object");
  EXPECT_EQ(err(R"({"type":"bogus"})"), "line 12: unknown record type \"bogus\"");
  EXPECT_EQ(err(R"({"kind":"x"})"), "line 12: missing field \"type\"");
  EXPECT_EQ(err(R"({"type":"exit","status":0,"signal":0})"), "line 12: missing field \"core\"");
  EXPECT_EQ(err(R"({"type":"exit","status":"0","signal":0,"core":false})"), "line 12: field \"status\" must be an integer");
  EXPECT_EQ(err(R"({"type":"note","kind":"v","addr":"xyz","size":1,"detail":""})"),
            "line 12: field \"addr\" is not a 64-bit hex number: \"xyz\"");
  EXPECT_EQ(err(R"({"type":"note","kind":"v","addr":"10000000000000000","size":1,"detail":""})"),
            "line 12: field \"addr\" is not a 64-bit hex number: \"10000000000000000\"");
  std::string line = encode(sample_syscall());
  std::string odd = line;
  odd.replace(odd.find("22876610"), 8, "2287661");
  EXPECT_EQ(err(odd), "line 12: field \"data\" has an odd number of hex digits");
  std::string few = line;
  few.replace(few.find("\"args\":["), 8, "\"args\":[\"1\",");
  EXPECT_EQ(err(few), "line 12: field \"args\" must be an array of 6 hex strings");
  std::string regs = encode(sample_regs());
  regs.replace(regs.find("\"ints\":[\"0\""), 11, "\"ints\":[\"1\"");
  EXPECT_EQ(err(regs), "line 12: x0 must be 0");
  EXPECT_EQ(err(R"({"type":"inst","pc":"10","inst":"641c00"})"), "line 12: field \"inst\" must be 4 or 8 hex digits");
  EXPECT_EQ(err(R"({"type":"read","addr":"10"})"), "line 12: missing field \"data\"");
  EXPECT_EQ(err(R"({"type":"counter","pc":"10","csr":"fcsr","rd":5,"value":"1"})"),
            "line 12: field \"csr\" must be cycle, time or instret");
  EXPECT_EQ(err(R"({"type":"counter","pc":"10","csr":"time","rd":0,"value":"1"})"),
            "line 12: field \"rd\" must be a register 1..31");
  EXPECT_EQ(err(R"({"type":"pages","interval":0,"start":0,"end":9,"pages":[{"addr":"1000","kind":"q","digest":"0"}]})"),
            "line 12: field \"kind\" must be letters of rwxk");
  EXPECT_EQ(err(R"({"type":"pages","interval":0,"start":0,"end":9,"pages":{}})"),
            "line 12: field \"pages\" must be an array");
}

TEST(TraceRecordTest, ReadsStreamsAndNamesTheBadLine) {
  std::stringstream good;
  good << encode(sample_regs()) << "\n\n" << encode(sample_syscall()) << "\n" << encode(ExitRecord{0, 0, false}) << "\n";
  auto all = read_trace(good);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
  std::stringstream bad;
  bad << encode(sample_regs()) << "\n" << "garbage\n";
  auto r = read_trace(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "line 2: not valid JSON");
}

// Fuzzing with seeded mutations of valid records: the decoder must never
// crash, and whatever it accepts must encode and decode to the same record.
TEST(TraceRecordTest, MutatedInputNeverCrashesTheDecoder) {
  std::vector<std::string> seeds = {encode(sample_syscall()), encode(sample_regs()),
                                    encode(NoteRecord{"nondet", 0x1000, 4096, "rdtime@1004"}),
                                    encode(ExitRecord{1, 0, false})};
  std::mt19937 rng(20261122);
  const std::string alphabet = "{}[]\":,0123456789abcdefxyz-. \\ntrue";
  unsigned accepted = 0, rejected = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[iter % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(pos, 1 + rng() % 8); break;
        case 2: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    auto r = decode(s, 1);
    if (!r) {
      ++rejected;
      EXPECT_EQ(r.error().message().rfind("line 1: ", 0), 0u);
      continue;
    }
    ++accepted;
    auto again = decode(encode(*r), 1);
    ASSERT_TRUE(again) << s;
    EXPECT_EQ(*again, *r) << s;
  }
  EXPECT_GT(rejected, 10000u);
  EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace hwslice
