/* rt_util.c — pure helpers of the slice runtime (see rt_util.h). Built twice:
 * freestanding into the runtime image and hosted into the unit tests, so it
 * uses nothing but <stdint.h>. */
#include "runtime/rt_util.h"

void hws_buf_init(struct hws_buf* b, char* storage, uint64_t cap) {
  b->p = storage;
  b->len = 0;
  b->cap = cap;
  b->overflow = 0;
  if (cap) storage[0] = 0;
}

/* Out of line on purpose: inlined into every constant string, -O2 unrolls
 * the report into kilobytes of byte stores. */
__attribute__((noinline)) void hws_buf_char(struct hws_buf* b, char c) {
  if (b->len + 1 >= b->cap) {
    b->overflow = 1;
    return;
  }
  b->p[b->len++] = c;
  b->p[b->len] = 0;
}

__attribute__((noinline)) void hws_buf_str(struct hws_buf* b, const char* s) {
  while (*s) hws_buf_char(b, *s++);
}

static unsigned u64_digits(uint64_t v, char* out /* 20 bytes, reversed */) {
  unsigned n = 0;
  do {
    out[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return n;
}

void hws_buf_u64_width(struct hws_buf* b, uint64_t v, unsigned width) {
  char d[20];
  unsigned n = u64_digits(v, d);
  for (unsigned i = n; i < width; i++) hws_buf_char(b, ' ');
  while (n) hws_buf_char(b, d[--n]);
}

void hws_buf_u64(struct hws_buf* b, uint64_t v) { hws_buf_u64_width(b, v, 0); }

void hws_buf_i64(struct hws_buf* b, int64_t v) {
  if (v < 0) {
    hws_buf_char(b, '-');
    hws_buf_u64(b, (uint64_t)0 - (uint64_t)v);
  } else {
    hws_buf_u64(b, (uint64_t)v);
  }
}

static char hex_digit(unsigned v) { return (char)(v < 10 ? '0' + v : 'a' + v - 10); }

void hws_buf_hex(struct hws_buf* b, uint64_t v) {
  hws_buf_str(b, "0x");
  int shift = 60;
  while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) hws_buf_char(b, hex_digit((unsigned)(v >> shift) & 0xf));
}

void hws_buf_hex16(struct hws_buf* b, uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) hws_buf_char(b, hex_digit((unsigned)(v >> shift) & 0xf));
}

void hws_buf_ratio2(struct hws_buf* b, uint64_t num, uint64_t den, unsigned width) {
  if (den == 0) {
    for (unsigned i = 1; i < width; i++) hws_buf_char(b, ' ');
    hws_buf_char(b, '-');
    return;
  }
  uint64_t whole = num / den, rem = num % den, frac;
  if (rem <= (UINT64_MAX - den / 2) / 100) {
    frac = (rem * 100 + den / 2) / den;
  } else {
    frac = rem / (den / 100); /* den > 1.8e17: the last digit hardly matters */
  }
  if (frac >= 100) {
    whole++;
    frac -= 100;
  }
  char d[20];
  unsigned n = u64_digits(whole, d);
  unsigned total = n + 3;
  for (unsigned i = total; i < width; i++) hws_buf_char(b, ' ');
  while (n) hws_buf_char(b, d[--n]);
  hws_buf_char(b, '.');
  hws_buf_char(b, (char)('0' + frac / 10));
  hws_buf_char(b, (char)('0' + frac % 10));
}

void hws_buf_json_str(struct hws_buf* b, const char* s) {
  hws_buf_char(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      hws_buf_char(b, '\\');
      hws_buf_char(b, (char)c);
    } else if (c == '\n') {
      hws_buf_str(b, "\\n");
    } else if (c == '\t') {
      hws_buf_str(b, "\\t");
    } else if (c == '\r') {
      hws_buf_str(b, "\\r");
    } else if (c < 0x20) {
      hws_buf_str(b, "\\u00");
      hws_buf_char(b, hex_digit(c >> 4));
      hws_buf_char(b, hex_digit(c & 0xf));
    } else {
      hws_buf_char(b, (char)c);
    }
  }
  hws_buf_char(b, '"');
}

int hws_parse_u64(const char* s, uint64_t* out) {
  uint64_t v = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = v;
  return 1;
}

const char* hws_env_value(const char* entry, const char* name) {
  while (*name) {
    if (*entry != *name) return 0;
    entry++;
    name++;
  }
  return *entry == '=' ? entry + 1 : 0;
}

uint64_t hws_digest_ranges(const struct hws_range* ranges, uint64_t n) {
  uint64_t h = HWS_FNV_OFFSET;
  for (uint64_t i = 0; i < n; i++) {
    h = hws_hash_word(h, ranges[i].addr);
    h = hws_hash_word(h, ranges[i].size);
    h = hws_hash(h, (const unsigned char*)(uintptr_t)ranges[i].addr, ranges[i].size);
  }
  return h;
}

static void json_key(struct hws_buf* b, const char* key, int first) {
  if (!first) hws_buf_char(b, ',');
  hws_buf_char(b, '"');
  hws_buf_str(b, key);
  hws_buf_str(b, "\":");
}

static void json_u64(struct hws_buf* b, const char* key, uint64_t v) {
  json_key(b, key, 0);
  hws_buf_u64(b, v);
}

static void json_bool(struct hws_buf* b, const char* key, int v) {
  json_key(b, key, 0);
  hws_buf_str(b, v ? "true" : "false");
}

void hws_format_json(struct hws_buf* b, const struct hws_result* r) {
  hws_buf_char(b, '{');
  json_key(b, "name", 1);
  hws_buf_json_str(b, r->name);
  json_key(b, "status", 0);
  hws_buf_json_str(b, r->status);
  json_key(b, "end", 0);
  hws_buf_json_str(b, r->end_kind);
  json_u64(b, "hits", r->hits);
  json_u64(b, "traps", r->traps);
  json_u64(b, "end_traps", r->end_traps);
  json_u64(b, "region_ns", r->region_ns);
  json_u64(b, "end_pass", r->end_pass);
  json_u64(b, "instructions", r->instructions);
  json_u64(b, "cycles", r->cycles);
  json_u64(b, "overhead_instructions", r->overhead_instructions);
  json_u64(b, "overhead_cycles", r->overhead_cycles);
  json_key(b, "counters", 0);
  hws_buf_json_str(b, r->counters);
  json_bool(b, "regs_match", r->regs_match);
  json_key(b, "digest", 0);
  hws_buf_char(b, '"');
  hws_buf_hex16(b, r->digest);
  hws_buf_char(b, '"');
  json_bool(b, "digest_match", r->digest_match);
  json_u64(b, "calls_replayed", r->calls_replayed);
  json_key(b, "detail", 0);
  hws_buf_json_str(b, r->detail);
  hws_buf_str(b, "}\n");
}

static int str_eq(const char* a, const char* b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

enum { kCol = 14 };

void hws_format_report(struct hws_buf* b, const struct hws_result* r) {
  hws_buf_str(b, " hwslice slice ");
  hws_buf_str(b, r->name);
  hws_buf_str(b, " (positions ");
  hws_buf_u64(b, r->start);
  hws_buf_str(b, "..");
  hws_buf_u64(b, r->end);
  hws_buf_str(b, "): ");
  if (r->ended) {
    hws_buf_str(b, "ended at pc ");
    hws_buf_hex(b, r->end_pc);
    if (str_eq(r->end_kind, "counted")) {
      hws_buf_str(b, " (counted end, ");
      hws_buf_u64(b, r->hits);
      hws_buf_str(b, r->hits == 1 ? " hit)" : " hits)");
    } else {
      hws_buf_str(b, " (");
      hws_buf_str(b, r->end_kind);
      hws_buf_str(b, " end)");
    }
  } else if (str_eq(r->status, "diverged")) {
    hws_buf_str(b, "diverged");
  } else if (str_eq(r->status, "fault")) {
    hws_buf_str(b, "program fault");
  } else {
    hws_buf_str(b, "set-up failed");
  }
  hws_buf_char(b, '\n');
  if (!r->ended && r->detail[0]) {
    hws_buf_str(b, "   ");
    hws_buf_str(b, r->detail);
    hws_buf_char(b, '\n');
  }

  const uint64_t expected = r->end - r->start;
  if (str_eq(r->counters, "none")) {
    for (unsigned i = 1; i < kCol; i++) hws_buf_char(b, ' ');
    hws_buf_str(b, "-  program instructions (expected ");
    hws_buf_u64(b, expected);
    hws_buf_str(b, "; no hardware counters)\n");
  } else {
    hws_buf_u64_width(b, r->instructions, kCol);
    hws_buf_str(b, "  program instructions (expected ");
    hws_buf_u64(b, expected);
    if (str_eq(r->counters, "all")) hws_buf_str(b, "; counters include the kernel");
    hws_buf_str(b, ")\n");
    hws_buf_u64_width(b, r->cycles, kCol);
    hws_buf_str(b, "  cycles\n");
    hws_buf_ratio2(b, r->instructions, r->cycles, kCol);
    hws_buf_str(b, "  IPC\n");
    hws_buf_u64_width(b, r->overhead_instructions, kCol);
    hws_buf_str(b, "  runtime instructions (not included above)\n");
    hws_buf_u64_width(b, r->overhead_cycles, kCol);
    hws_buf_str(b, "  runtime cycles (not included above)\n");
  }
  hws_buf_u64_width(b, r->traps, kCol);
  hws_buf_str(b, "  kernel traps of the runtime's (");
  hws_buf_u64(b, r->end_traps);
  hws_buf_str(b, " for the end)\n");
  hws_buf_u64_width(b, r->calls_replayed, kCol);
  hws_buf_str(b, "  events replayed (of ");
  hws_buf_u64(b, r->calls_count);
  hws_buf_str(b, ")\n");

  if (r->ended) {
    hws_buf_str(b, " state: ");
    hws_buf_str(b, r->regs_match ? "registers match" : "registers differ");
    hws_buf_str(b, ", memory digest ");
    if (r->digest_match) {
      hws_buf_str(b, "match");
    } else {
      hws_buf_str(b, "differs (");
      hws_buf_hex16(b, r->digest);
      hws_buf_str(b, ", expected ");
      hws_buf_hex16(b, r->expected_digest);
      hws_buf_char(b, ')');
    }
    hws_buf_char(b, '\n');
    if (r->detail[0]) {
      hws_buf_str(b, "   ");
      hws_buf_str(b, r->detail);
      hws_buf_char(b, '\n');
    }
  }
}
