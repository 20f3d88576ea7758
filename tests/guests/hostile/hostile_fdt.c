/* The two things the hostile guest wants from a device tree (aarch64 and
 * riscv64 boot with one): where RAM ends (/memory's reg) and its command
 * line (/chosen/bootargs). A flat walk of the structure block, every offset
 * checked against the blob's size and the walk bounded, so a damaged or
 * missing tree means defaults, never a fault. Byte loads only: the blob's
 * alignment is the VMM's to choose. */
#include "hostile.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_MAX_SIZE (2u << 20) /* the DTB sits in at most 2 MiB at the top of RAM */
#define TOK_BEGIN_NODE 1u
#define TOK_END_NODE 2u
#define TOK_PROP 3u
#define TOK_NOP 4u
#define TOK_END 9u

static uint32_t be32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int str_eq(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

/* The value of `cells` 32-bit big-endian cells at p (1 or 2). */
static uint64_t cells_value(const uint8_t* p, uint32_t cells) {
  return cells == 2 ? (uint64_t)be32(p) << 32 | be32(p + 4) : be32(p);
}

int fdt_read(uint64_t dtb, uint64_t* ram_end, const char** bootargs, size_t* bootargs_len) {
  const uint8_t* b = (const uint8_t*)(uintptr_t)dtb;
  if (!b || be32(b) != FDT_MAGIC) return 0;
  uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12);
  uint32_t size_strings = be32(b + 32), size_struct = be32(b + 36);
  if (total < 40 || total > FDT_MAX_SIZE || off_struct > total || size_struct > total - off_struct ||
      off_strings > total || size_strings > total - off_strings)
    return 0;
  const uint8_t* s = b + off_struct;
  uint32_t pos = 0, depth = 0, addr_cells = 2, size_cells = 1;
  int in_chosen = 0, in_memory = 0;
  uint64_t end = 0;
  for (uint32_t steps = 0; steps < 100000 && pos + 4 <= size_struct; ++steps) {
    uint32_t tok = be32(s + pos);
    pos += 4;
    if (tok == TOK_BEGIN_NODE) {
      const char* name = (const char*)(s + pos);
      uint32_t n = 0;
      while (pos + n < size_struct && name[n]) ++n;
      if (pos + n >= size_struct) return 0;
      ++depth;
      in_chosen = depth == 2 && str_eq(name, "chosen");
      in_memory = depth == 2 && starts(name, "memory");
      pos = (pos + n + 1 + 3) & ~3u;
    } else if (tok == TOK_END_NODE) {
      if (depth == 0) return 0;
      --depth;
      in_chosen = in_memory = 0;
    } else if (tok == TOK_PROP) {
      if (pos + 8 > size_struct) return 0;
      uint32_t len = be32(s + pos), nameoff = be32(s + pos + 4);
      pos += 8;
      if (len > size_struct - pos || nameoff >= size_strings) return 0;
      const char* pname = (const char*)(b + off_strings + nameoff);
      uint32_t room = size_strings - nameoff, k = 0;
      while (k < room && pname[k]) ++k;
      if (k == room) return 0; /* the name runs off the strings block */
      const uint8_t* v = s + pos;
      if (depth == 1 && len == 4 && str_eq(pname, "#address-cells")) addr_cells = be32(v);
      if (depth == 1 && len == 4 && str_eq(pname, "#size-cells")) size_cells = be32(v);
      if (in_memory && str_eq(pname, "reg") && (addr_cells == 1 || addr_cells == 2) &&
          (size_cells == 1 || size_cells == 2) && len >= 4 * (addr_cells + size_cells)) {
        uint64_t e = cells_value(v, addr_cells) + cells_value(v + 4 * addr_cells, size_cells);
        if (e > end) end = e;
      }
      if (in_chosen && str_eq(pname, "bootargs") && len > 0) {
        *bootargs = (const char*)v;
        *bootargs_len = len;
      }
      pos = (pos + len + 3) & ~3u;
    } else if (tok == TOK_NOP) {
      continue;
    } else {
      break; /* TOK_END or garbage */
    }
  }
  if (end) *ram_end = end;
  return 1;
}
