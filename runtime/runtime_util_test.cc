// Tests of the runtime's pure helpers (rt_util.c, compiled hosted here).
#include "runtime/rt_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

std::string fmt(void (*f)(struct hws_buf*, uint64_t), uint64_t v) {
  char s[128];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  f(&b, v);
  return std::string(b.p, b.len);
}

std::string ratio(uint64_t num, uint64_t den, unsigned width) {
  char s[64];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_buf_ratio2(&b, num, den, width);
  return s;
}

std::string json_str(const char* in) {
  char s[256];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_buf_json_str(&b, in);
  return s;
}

uint64_t fnv(const std::string& s) {
  return hws_hash(HWS_FNV_OFFSET, reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

TEST(RuntimeHash, ShortInputsAreFnv1a64) {
  // Published FNV-1a 64 test vectors: under 8 bytes hws_hash is FNV-1a.
  EXPECT_EQ(fnv(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv("foobar"), 0x85944171f73967e8ULL);
}

TEST(RuntimeHash, WordsThenTailBytes) {
  // Values from an independent implementation of the slice_abi.h rule
  // (Python: per 8-byte little-endian word h = (h ^ w) * prime mod 2^64,
  // h ^= h >> 32; the remaining bytes as FNV-1a).
  EXPECT_EQ(fnv("0123456789abcdef"), 0x4914f088f409e718ULL);
  EXPECT_EQ(fnv("hello, world!"), 0x76260265e454c768ULL);
  alignas(8) unsigned char page[4096];
  for (unsigned i = 0; i < sizeof page; i++) page[i] = static_cast<unsigned char>(i * 7);
  EXPECT_EQ(hws_hash(HWS_FNV_OFFSET, page, sizeof page), 0xfef37cf7415ffd66ULL);
}

TEST(RuntimeHash, AlignmentDoesNotMatter) {
  alignas(8) unsigned char buf[64 + 1];
  for (unsigned i = 0; i < sizeof buf; i++) buf[i] = static_cast<unsigned char>(i * 13 + 5);
  alignas(8) unsigned char moved[64 + 8];
  std::memcpy(moved + 3, buf, 61);
  EXPECT_EQ(hws_hash(HWS_FNV_OFFSET, moved + 3, 61), hws_hash(HWS_FNV_OFFSET, buf, 61));
  EXPECT_NE(hws_hash(HWS_FNV_OFFSET, buf, 61), hws_hash(HWS_FNV_OFFSET, buf, 60));
}

TEST(RuntimeHash, HighBitsReachTheLowHalf) {
  // A change in a word's top bit changes the hash's low 32 bits too (the
  // fold), not only its top bit as a plain multiplication would.
  alignas(8) unsigned char a[16] = {}, b[16] = {};
  b[7] = 0x80;
  const uint64_t ha = hws_hash(HWS_FNV_OFFSET, a, 16), hb = hws_hash(HWS_FNV_OFFSET, b, 16);
  EXPECT_NE(ha & 0xffffffffu, hb & 0xffffffffu);
}

TEST(RuntimeDigest, NoRangesIsTheOffsetBasis) {
  EXPECT_EQ(hws_digest_ranges(nullptr, 0), 0xcbf29ce484222325ULL);
}

TEST(RuntimeDigest, HashesAddressSizeAndContentOfEachRangeInOrder) {
  alignas(8) unsigned char a[24], c[5];
  for (unsigned i = 0; i < sizeof a; i++) a[i] = static_cast<unsigned char>(i * 7 + 1);
  std::memcpy(c, "hello", 5);
  const hws_range ranges[2] = {{reinterpret_cast<uint64_t>(a), sizeof a},
                               {reinterpret_cast<uint64_t>(c), sizeof c}};
  // The same digest as one hws_hash pass over the concatenated stream (its
  // parts before the last are whole words).
  std::string stream;
  for (const hws_range& r : ranges) {
    for (int i = 0; i < 8; i++) stream.push_back(static_cast<char>(r.addr >> (8 * i)));
    for (int i = 0; i < 8; i++) stream.push_back(static_cast<char>(r.size >> (8 * i)));
    stream.append(reinterpret_cast<const char*>(r.addr), r.size);
  }
  ASSERT_EQ(stream.size(), 16u + 24u + 16u + 5u);
  EXPECT_EQ(hws_digest_ranges(ranges, 2), fnv(stream));
  // Order and content matter.
  const hws_range swapped[2] = {ranges[1], ranges[0]};
  EXPECT_NE(hws_digest_ranges(swapped, 2), fnv(stream));
  const uint64_t before = hws_digest_ranges(ranges, 2);
  a[23] ^= 1;
  EXPECT_NE(hws_digest_ranges(ranges, 2), before);
}

TEST(RuntimeFormat, Numbers) {
  EXPECT_EQ(fmt(hws_buf_u64, 0), "0");
  EXPECT_EQ(fmt(hws_buf_u64, 1234567890), "1234567890");
  EXPECT_EQ(fmt(hws_buf_u64, UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(fmt(hws_buf_hex, 0), "0x0");
  EXPECT_EQ(fmt(hws_buf_hex, 0x200044), "0x200044");
  EXPECT_EQ(fmt(hws_buf_hex, UINT64_MAX), "0xffffffffffffffff");
  EXPECT_EQ(fmt(hws_buf_hex16, 0xabc), "0000000000000abc");
  char s[32];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_buf_i64(&b, -42);
  hws_buf_char(&b, ' ');
  hws_buf_i64(&b, INT64_MIN);
  EXPECT_STREQ(s, "-42 -9223372036854775808");
  hws_buf_init(&b, s, sizeof s);
  hws_buf_u64_width(&b, 33, 6);
  hws_buf_char(&b, '|');
  hws_buf_u64_width(&b, 1234567, 3);
  EXPECT_STREQ(s, "    33|1234567");
}

TEST(RuntimeFormat, RatioRoundsHalfUpToTwoDecimals) {
  EXPECT_EQ(ratio(1000, 2500, 0), "0.40");
  EXPECT_EQ(ratio(1, 3, 0), "0.33");
  EXPECT_EQ(ratio(2, 3, 0), "0.67");
  EXPECT_EQ(ratio(1, 200, 0), "0.01");   // 0.005 rounds up
  EXPECT_EQ(ratio(1, 201, 0), "0.00");
  EXPECT_EQ(ratio(7, 2, 6), "  3.50");
  EXPECT_EQ(ratio(5, 0, 4), "   -");
  // Past the num*100 overflow bound: 3e18 / 2 = 1.5e18.
  EXPECT_EQ(ratio(3000000000000000000ULL, 2, 0), "1500000000000000000.00");
  // Huge denominators: no overflow, rounding carries into the whole part.
  EXPECT_EQ(ratio(UINT64_MAX, UINT64_MAX, 0), "1.00");
  EXPECT_EQ(ratio(UINT64_MAX - 1, UINT64_MAX, 0), "1.00");
  EXPECT_EQ(ratio(UINT64_MAX / 4, UINT64_MAX, 0), "0.25");
}

TEST(RuntimeFormat, JsonStringEscaping) {
  EXPECT_EQ(json_str(""), "\"\"");
  EXPECT_EQ(json_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_str("x\ny\tz\r\x01\x1f"), "\"x\\ny\\tz\\r\\u0001\\u001f\"");
  EXPECT_EQ(json_str("\xc3\xa9"), "\"\xc3\xa9\"");
}

TEST(RuntimeFormat, FullBufferTruncatesAndSaysSo) {
  char s[5];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_buf_str(&b, "abcdefgh");
  EXPECT_STREQ(s, "abcd");
  EXPECT_EQ(b.len, 4u);
  EXPECT_EQ(b.overflow, 1);
}

TEST(RuntimeParse, DecimalU64) {
  uint64_t v = 99;
  EXPECT_EQ(hws_parse_u64("0", &v), 1);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(hws_parse_u64("7", &v), 1);
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(hws_parse_u64("18446744073709551615", &v), 1);
  EXPECT_EQ(v, UINT64_MAX);
  v = 5;
  EXPECT_EQ(hws_parse_u64("18446744073709551616", &v), 0);
  EXPECT_EQ(hws_parse_u64("", &v), 0);
  EXPECT_EQ(hws_parse_u64("1a", &v), 0);
  EXPECT_EQ(hws_parse_u64("-1", &v), 0);
  EXPECT_EQ(hws_parse_u64(" 1", &v), 0);
  EXPECT_EQ(v, 5u);
}

TEST(RuntimeParse, EnvironmentEntries) {
  EXPECT_STREQ(hws_env_value("HWSLICE_QUIET=1", "HWSLICE_QUIET"), "1");
  EXPECT_STREQ(hws_env_value("HWSLICE_STATS_FD=", "HWSLICE_STATS_FD"), "");
  EXPECT_EQ(hws_env_value("HWSLICE_QUIETER=1", "HWSLICE_QUIET"), nullptr);
  EXPECT_EQ(hws_env_value("HWSLICE_QUIET", "HWSLICE_QUIET"), nullptr);
  EXPECT_EQ(hws_env_value("HWSLICE_QUIE=1", "HWSLICE_QUIET"), nullptr);
}

hws_result ok_result() {
  hws_result r{};
  r.name = "P1000-2000";
  r.status = "ok";
  r.end_kind = "counted";
  r.start = 1000;
  r.end = 2000;
  r.ended = 1;
  r.end_pc = 0x1234;
  r.hits = 3;
  r.traps = 3;
  r.end_traps = 3;
  r.region_ns = 70000;
  r.end_pass = 41;
  r.counters = "user";
  r.instructions = 1000;
  r.cycles = 2500;
  r.overhead_instructions = 812;
  r.overhead_cycles = 4000;
  r.regs_match = 1;
  r.digest_match = 1;
  r.digest = 0x0123456789abcdefULL;
  r.expected_digest = 0x0123456789abcdefULL;
  r.calls_replayed = 4;
  r.calls_count = 4;
  r.detail = "";
  return r;
}

std::string json(const hws_result& r) {
  static char s[4096];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_format_json(&b, &r);
  return s;
}

std::string report(const hws_result& r) {
  static char s[4096];
  hws_buf b;
  hws_buf_init(&b, s, sizeof s);
  hws_format_report(&b, &r);
  return s;
}

TEST(RuntimeResult, JsonHasEveryKeyOfTheAbiInOrder) {
  hws_result r = ok_result();
  EXPECT_EQ(json(r),
            "{\"name\":\"P1000-2000\",\"status\":\"ok\",\"end\":\"counted\",\"hits\":3,\"traps\":3,\"end_traps\":3,\"region_ns\":70000,\"end_pass\":41,"
            "\"instructions\":1000,\"cycles\":2500,\"overhead_instructions\":812,"
            "\"overhead_cycles\":4000,\"counters\":\"user\",\"regs_match\":true,"
            "\"digest\":\"0123456789abcdef\",\"digest_match\":true,\"calls_replayed\":4,"
            "\"detail\":\"\"}\n");
  r.status = "diverged";
  r.regs_match = 0;
  r.digest_match = 0;
  r.detail = "syscall \"x\"";
  EXPECT_EQ(json(r),
            "{\"name\":\"P1000-2000\",\"status\":\"diverged\",\"end\":\"counted\",\"hits\":3,\"traps\":3,\"end_traps\":3,\"region_ns\":70000,\"end_pass\":41,"
            "\"instructions\":1000,\"cycles\":2500,\"overhead_instructions\":812,"
            "\"overhead_cycles\":4000,\"counters\":\"user\",\"regs_match\":false,"
            "\"digest\":\"0123456789abcdef\",\"digest_match\":false,\"calls_replayed\":4,"
            "\"detail\":\"syscall \\\"x\\\"\"}\n");
}

TEST(RuntimeResult, ReportOfACountedSlice) {
  EXPECT_EQ(report(ok_result()),
            " hwslice slice P1000-2000 (positions 1000..2000): ended at pc 0x1234 (counted end, 3 hits)\n"
            "          1000  program instructions (expected 1000)\n"
            "          2500  cycles\n"
            "          0.40  IPC\n"
            "           812  runtime instructions (not included above)\n"
            "          4000  runtime cycles (not included above)\n"
            "             3  kernel traps of the runtime's (3 for the end)\n"
            "             4  events replayed (of 4)\n"
            " state: registers match, memory digest match\n");
}

TEST(RuntimeResult, ReportWithoutCountersAndWithADigestMismatch) {
  hws_result r = ok_result();
  r.counters = "none";
  r.status = "state_mismatch";
  r.end_kind = "syscall";
  r.hits = 1;
  r.digest_match = 0;
  r.expected_digest = 0xfedcba9876543210ULL;
  EXPECT_EQ(report(r),
            " hwslice slice P1000-2000 (positions 1000..2000): ended at pc 0x1234 (syscall end)\n"
            "             -  program instructions (expected 1000; no hardware counters)\n"
            "             3  kernel traps of the runtime's (3 for the end)\n"
            "             4  events replayed (of 4)\n"
            " state: registers match, memory digest differs (0123456789abcdef, expected "
            "fedcba9876543210)\n");
}

TEST(RuntimeResult, ReportOfADivergence) {
  hws_result r = ok_result();
  r.status = "diverged";
  r.ended = 0;
  r.counters = "all";
  r.hits = 1;
  r.calls_replayed = 2;
  r.detail = "replay table exhausted";
  EXPECT_EQ(report(r),
            " hwslice slice P1000-2000 (positions 1000..2000): diverged\n"
            "   replay table exhausted\n"
            "          1000  program instructions (expected 1000; counters include the kernel)\n"
            "          2500  cycles\n"
            "          0.40  IPC\n"
            "           812  runtime instructions (not included above)\n"
            "          4000  runtime cycles (not included above)\n"
            "             3  kernel traps of the runtime's (3 for the end)\n"
            "             2  events replayed (of 4)\n");
}

}  // namespace
