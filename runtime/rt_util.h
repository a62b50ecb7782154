/* rt_util.h — the slice runtime's pure helpers: a bounded text buffer with
 * number formatting, JSON string escaping, decimal parsing, the
 * written-memory digest, and the report/JSON writers.
 *
 * Contract: no system calls, no global state, no floating point, no C
 * library (only <stdint.h>), so the same file is linked into the
 * freestanding runtime image and into the host unit tests
 * (runtime_util_test.cc). A full buffer truncates silently; `overflow` says
 * so. hws_digest_ranges reads the memory it is given; the caller makes sure
 * every range is mapped and readable.
 */
#ifndef HWSLICE_RUNTIME_RT_UTIL_H
#define HWSLICE_RUNTIME_RT_UTIL_H

#include <stdint.h>

#include "runtime/slice_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hws_buf {
  char* p;
  uint64_t len, cap; /* p[len] is always NUL (cap includes it) */
  int overflow;
};

void hws_buf_init(struct hws_buf* b, char* storage, uint64_t cap);
void hws_buf_char(struct hws_buf* b, char c);
void hws_buf_str(struct hws_buf* b, const char* s);
void hws_buf_u64(struct hws_buf* b, uint64_t v);
void hws_buf_i64(struct hws_buf* b, int64_t v);
/* v right-aligned in `width` columns (wider numbers are not cut). */
void hws_buf_u64_width(struct hws_buf* b, uint64_t v, unsigned width);
/* "0x" and the shortest lower-case hex digits ("0x0" for 0). */
void hws_buf_hex(struct hws_buf* b, uint64_t v);
/* exactly 16 lower-case hex digits, no prefix */
void hws_buf_hex16(struct hws_buf* b, uint64_t v);
/* num/den rounded half up to two decimals ("0.40"), right-aligned in
 * `width`; "-" when den is 0. */
void hws_buf_ratio2(struct hws_buf* b, uint64_t num, uint64_t den, unsigned width);
/* s as a JSON string literal: quotes, \" \\ \n \t \r and \u00XX for other
 * control bytes; bytes >= 0x80 are copied. */
void hws_buf_json_str(struct hws_buf* b, const char* s);

/* Parses a decimal number that makes up all of s (no sign, no spaces, no
 * overflow past 2^64-1). Returns 1 and sets *out, or 0. */
int hws_parse_u64(const char* s, uint64_t* out);

/* If env entry `entry` ("NAME=value") has name `name`, returns value. */
const char* hws_env_value(const char* entry, const char* name);

/* The written-memory digest (slice_abi.h hws_hash) over ranges[0..n): for
 * each range its address and its size (a word each), then its content. */
uint64_t hws_digest_ranges(const struct hws_range* ranges, uint64_t n);

/* Everything the report and the JSON line say about one slice run. */
struct hws_result {
  const char* name;
  const char* status;    /* "ok", "state_mismatch", "diverged", "fault", "setup" */
  const char* end_kind;  /* "counted", "syscall", "fault", "after_call" */
  uint64_t start, end;   /* program positions */
  int ended;             /* the end mechanism was reached */
  uint64_t end_pc;
  uint64_t hits;         /* end-mechanism hits (counted: end_pc hits; else 1 once ended) */
  uint64_t traps;        /* kernel traps the runtime took between the start and the end */
  uint64_t end_traps;    /* of those, the end mechanism's */
  uint64_t region_ns;    /* guest time from the counters' start to the end (0: unknown) */
  uint64_t end_pass;     /* a counted end reached: its pass of end_pc since the end was armed (else 0) */
  const char* counters;  /* "user", "all", "none" */
  uint64_t instructions, cycles, overhead_instructions, overhead_cycles;
  int regs_match, digest_match;
  uint64_t digest, expected_digest;
  uint64_t calls_replayed, calls_count;
  const char* detail;    /* "" when there is nothing to add */
};

/* The JSON object of slice_abi.h on one line, with a final newline. */
void hws_format_json(struct hws_buf* b, const struct hws_result* r);
/* The perf-stat-like report (several lines, each ending in a newline). */
void hws_format_report(struct hws_buf* b, const struct hws_result* r);

#ifdef __cplusplus
}
#endif

#endif
