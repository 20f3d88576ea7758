/* The hostile test guest's attack, shared by every architecture (issue 13
 * item 4; hostile.h has the seam to the arch files). Round after round,
 * until the VMM's --timeout ends it:
 *   - the arch's own attacks first (arch_round: x86's I/O ports, riscv64's
 *     SBI calls);
 *   - random accesses to every MMIO window: PCI ECAM, the virtio BARs (not
 *     their MSI-X table), the virtio-mmio slots, then the arch's other
 *     windows and the unclaimed gaps (arch_mmio_round);
 *   - every virtio device (PCI or virtio-mmio): reset, feature negotiation
 *     with and without bits it did not offer, queues at addresses outside
 *     RAM, descriptor loops, addresses outside RAM and wrapping at 2^64,
 *     lengths near 4 GiB, chains longer than the queue, indirect tables
 *     inside indirect tables, avail idx jumping far ahead, heads beyond the
 *     ring; floods of valid console output and block requests; resets while
 *     requests are in flight.
 * Each round prints "HOSTILE round N ..." on the UART (re-initialised first:
 * the random writes reach it too). The seed is HOSTILE_SEED (build time)
 * unless the command line says hostile.seed=N. */
#include "hostile.h"

/* ---- memory ------------------------------------------------------------- */

static void* memset_(void* d, int c, size_t n) {
  volatile uint8_t* p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}
/* The compiler may emit calls to these for struct copies and loops. */
void* memset(void* d, int c, size_t n) { return memset_(d, c, n); }
void* memcpy(void* d, const void* s, size_t n) {
  volatile uint8_t* o = d;
  const uint8_t* i = s;
  while (n--) *o++ = *i++;
  return d;
}

/* ---- randomness --------------------------------------------------------- */

static uint64_t rng_state = HOSTILE_SEED;
uint64_t rnd(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}
uint32_t below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
int chance(uint32_t one_in) { return below(one_in) == 0; }
void hostile_seed(uint64_t seed) { rng_state = seed | 1; }
uint64_t hostile_seed_value(void) { return rng_state; }

/* ---- the console -------------------------------------------------------- */

void puts_(const char* s) {
  while (*s) arch_putc(*s++);
}
void putu(uint64_t v) {
  char b[21];
  int n = 0;
  do b[n++] = (char)('0' + v % 10); while ((v /= 10) && n < 20);
  while (n) arch_putc(b[--n]);
}
void putx(uint64_t v) {
  puts_("0x");
  int started = 0;
  for (int s = 60; s >= 0; s -= 4) {
    unsigned d = (v >> s) & 0xf;
    if (d || started || s == 0) {
      arch_putc("0123456789abcdef"[d]);
      started = 1;
    }
  }
}

/* ---- the command line --------------------------------------------------- */

int starts(const char* s, const char* p) {
  while (*p)
    if (*s++ != *p++) return 0;
  return 1;
}
uint64_t parse_num(const char* s) {
  uint64_t v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    for (s += 2;; ++s) {
      char c = *s;
      if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
      else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
      else break;
    }
    return v;
  }
  for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + (uint64_t)(*s - '0');
  return v;
}

/* hostile.seed=N here, any other word to the arch (arch_knob); at most `max`
 * bytes of `cmd` are read, up to its NUL. */
void hostile_cmdline(const char* cmd, size_t max) {
  for (size_t i = 0; i < max && cmd[i]; ++i) {
    const char* s = cmd + i;
    if (i && s[-1] != ' ') continue;
    if (starts(s, "hostile.seed=")) hostile_seed(parse_num(s + 13));
    else (void)arch_knob(s);
  }
}

/* ---- random MMIO -------------------------------------------------------- */

uint64_t mmio_accesses;

void poke_mmio(uint64_t a) {
  switch (below(8)) {
    case 0: w8(a, (uint8_t)rnd()); break;
    case 1: w16(a & ~1ull, (uint16_t)rnd()); break;
    case 2: w32(a & ~3ull, (uint32_t)rnd()); break;
    case 3: w64(a & ~7ull, rnd()); break;
    case 4: /* unaligned where the arch lets a misaligned access reach the VMM */
      w32(plat.unaligned_mmio ? a : a & ~3ull, (uint32_t)rnd());
      break;
    case 5: (void)r8(a); break;
    case 6: (void)r32(a & ~3ull); break;
    default: (void)r64(a & ~7ull); break;
  }
  ++mmio_accesses;
}

/* ---- virtio devices, either transport ---------------------------------- */

enum { T_PCI, T_MMIO };
struct vdev {
  int transport;
  uint32_t type; /* virtio device id: 2 block, 3 console, 4 rng, ... */
  uint64_t base; /* PCI: the BAR (common cfg at 0, notify at 0x3000); mmio: the slot */
  uint64_t bar_size;
  uint32_t pci_dev;
  uint32_t index;
  uint64_t resets, requests, malformed;
};
#define MAX_DEVS 8
static struct vdev devs[MAX_DEVS];
static uint32_t ndevs;

/* virtio-pci common configuration offsets */
#define C_DFSEL 0x00
#define C_DF 0x04
#define C_GFSEL 0x08
#define C_GF 0x0c
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_QSEL 0x16
#define C_QSIZE 0x18
#define C_QENABLE 0x1c
#define C_QDESC 0x20
#define C_QDRIVER 0x28
#define C_QDEVICE 0x30
#define PCI_NOTIFY 0x3000
/* virtio-mmio registers */
#define M_MAGIC 0x00
#define M_VERSION 0x04
#define M_DEVID 0x08
#define M_DF 0x10
#define M_DFSEL 0x14
#define M_GF 0x20
#define M_GFSEL 0x24
#define M_QSEL 0x30
#define M_QMAX 0x34
#define M_QNUM 0x38
#define M_QREADY 0x44
#define M_NOTIFY 0x50
#define M_ISR 0x60
#define M_ACK 0x64
#define M_STATUS 0x70
#define M_QDESC 0x80
#define M_QDRIVER 0x90
#define M_QDEVICE 0xa0

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

static void set_status(struct vdev* d, uint8_t s) {
  if (d->transport == T_PCI) w8(d->base + C_STATUS, s);
  else w32(d->base + M_STATUS, s);
}
static uint8_t get_status(struct vdev* d) {
  return d->transport == T_PCI ? r8(d->base + C_STATUS) : (uint8_t)r32(d->base + M_STATUS);
}
static uint32_t dev_features(struct vdev* d, uint32_t sel) {
  if (d->transport == T_PCI) return w32(d->base + C_DFSEL, sel), r32(d->base + C_DF);
  return w32(d->base + M_DFSEL, sel), r32(d->base + M_DF);
}
static void drv_features(struct vdev* d, uint32_t sel, uint32_t v) {
  if (d->transport == T_PCI) w32(d->base + C_GFSEL, sel), w32(d->base + C_GF, v);
  else w32(d->base + M_GFSEL, sel), w32(d->base + M_GF, v);
}
static uint32_t num_queues(struct vdev* d) {
  if (d->transport == T_PCI) return r16(d->base + C_NUMQ);
  uint32_t n = 0;
  while (n < 8) {
    w32(d->base + M_QSEL, n);
    if (!r32(d->base + M_QMAX)) break;
    ++n;
  }
  return n;
}
static uint32_t queue_select(struct vdev* d, uint32_t q) {
  if (d->transport == T_PCI) return w16(d->base + C_QSEL, (uint16_t)q), r16(d->base + C_QSIZE);
  return w32(d->base + M_QSEL, q), r32(d->base + M_QMAX);
}
static void queue_setup(struct vdev* d, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used) {
  if (d->transport == T_PCI) {
    w16(d->base + C_QSIZE, (uint16_t)size);
    w32(d->base + C_QDESC, (uint32_t)desc), w32(d->base + C_QDESC + 4, (uint32_t)(desc >> 32));
    w32(d->base + C_QDRIVER, (uint32_t)avail), w32(d->base + C_QDRIVER + 4, (uint32_t)(avail >> 32));
    w32(d->base + C_QDEVICE, (uint32_t)used), w32(d->base + C_QDEVICE + 4, (uint32_t)(used >> 32));
    w16(d->base + C_QENABLE, 1);
  } else {
    w32(d->base + M_QNUM, size);
    w32(d->base + M_QDESC, (uint32_t)desc), w32(d->base + M_QDESC + 4, (uint32_t)(desc >> 32));
    w32(d->base + M_QDRIVER, (uint32_t)avail), w32(d->base + M_QDRIVER + 4, (uint32_t)(avail >> 32));
    w32(d->base + M_QDEVICE, (uint32_t)used), w32(d->base + M_QDEVICE + 4, (uint32_t)(used >> 32));
    w32(d->base + M_QREADY, 1);
  }
}
static void notify(struct vdev* d, uint32_t q) {
  if (d->transport == T_PCI) w16(d->base + PCI_NOTIFY + 4 * q, (uint16_t)q);
  else w32(d->base + M_NOTIFY, q);
}
static void reset(struct vdev* d) {
  set_status(d, 0);
  ++d->resets;
  if (d->transport == T_MMIO) w32(d->base + M_ACK, r32(d->base + M_ISR));
}

/* Finds the virtio-pci functions on bus 0 and puts BAR 4 (64-bit) where this
 * guest knows it is mapped: every round, since the random configuration
 * writes (ECAM; x86 also 0xCF8/0xCFC) move and disable BARs. */
static void pci_place_bars(void) {
  for (uint32_t i = 0; i < ndevs; ++i) {
    struct vdev* d = &devs[i];
    if (d->transport != T_PCI) continue;
    uint32_t dev = d->pci_dev;
    arch_cfg_write(dev, 0x04, 0x0000); /* decoding off while sizing */
    arch_cfg_write(dev, 0x20, 0xffffffffu);
    arch_cfg_write(dev, 0x24, 0xffffffffu);
    uint32_t lo = arch_cfg_read(dev, 0x20) & ~0xfu;
    uint64_t size = lo ? (uint64_t)(~lo + 1u) : 0;
    d->bar_size = size > plat.bar_stride || !size ? plat.bar_stride : size;
    arch_cfg_write(dev, 0x20, (uint32_t)d->base);
    arch_cfg_write(dev, 0x24, 0);
    arch_cfg_write(dev, 0x04, 0x0006); /* memory decoding, bus master */
  }
}

static void find_devices(void) {
  for (uint32_t dev = 1; dev < 32 && ndevs < MAX_DEVS; ++dev) {
    uint32_t id = arch_cfg_read(dev, 0);
    if ((id & 0xffff) != 0x1af4) continue;
    uint32_t device_id = id >> 16;
    struct vdev* d = &devs[ndevs];
    d->transport = T_PCI;
    d->type = device_id >= 0x1040 ? device_id - 0x1040 : 0;
    d->pci_dev = dev;
    d->index = ndevs;
    d->base = plat.bar_base + plat.bar_stride * ndevs;
    ++ndevs;
  }
  for (uint32_t s = 0; s < plat.vmmio_slots && ndevs < MAX_DEVS; ++s) {
    uint64_t base = plat.vmmio_base + plat.vmmio_stride * s;
    if (r32(base + M_MAGIC) != 0x74726976u || r32(base + M_DEVID) == 0) continue;
    struct vdev* d = &devs[ndevs];
    d->transport = T_MMIO;
    d->type = r32(base + M_DEVID);
    d->base = base;
    d->bar_size = plat.vmmio_stride;
    d->index = ndevs;
    ++ndevs;
  }
  pci_place_bars();
}

/* Each device's rings: 4 queues of QUEUE_AREA from plat.scratch; random "in RAM"
 * buffers above 32 such areas. */
#define QUEUE_AREA 0x10000ull

/* ---- virtqueues --------------------------------------------------------- */

struct desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct ring {
  volatile struct desc* desc;
  volatile uint16_t* avail; /* flags, idx, ring[size], used_event */
  volatile uint16_t* used;  /* flags, idx, then {id, len} pairs */
  uint64_t indirect;        /* 16 KiB of indirect tables */
  uint64_t buffers;         /* 16 KiB of data */
  uint32_t size;
  uint16_t avail_idx;
};

static uint64_t queue_area(struct vdev* d, uint32_t q) { return plat.scratch + QUEUE_AREA * (d->index * 4 + (q & 3)); }

/* An address outside guest RAM, or one that wraps, or one in MMIO. */
uint64_t bad_addr(void) {
  switch (below(8)) {
    case 0: return plat.ram_end + (rnd() & 0xfffff000ull);
    case 1: return plat.ram_end - 8; /* straddles the end */
    case 2: return 0xfffffffffffff000ull;
    case 3: return ~0ull - below(64);
    case 4: return plat.foreign_mmio; /* a device not the VMM's: x86 LAPIC, arm GIC */
    case 5: return plat.bar_base; /* a device's own BAR */
    case 6: return plat.dma_gap + (rnd() & plat.dma_gap_mask);
    default: return rnd();
  }
}
uint64_t scratch_addr(void) {
  return plat.scratch + QUEUE_AREA * 32 + (rnd() % (plat.scratch_end - plat.scratch - QUEUE_AREA * 32 - 0x10000));
}

static void push(struct ring* r, uint16_t head) {
  r->avail[2 + (r->avail_idx % r->size)] = head;
  ++r->avail_idx;
}
static void publish(struct ring* r) {
  arch_barrier();
  r->avail[1] = r->avail_idx;
  arch_barrier();
}

static void wait_used(struct ring* r, uint16_t want) {
  for (uint32_t i = 0; i < 2000000 && (uint16_t)(r->used[1] - want) > 0x8000; ++i) arch_relax();
}

/* A valid request for the device type, in descriptors [at, at+3). */
static uint16_t valid_chain(struct vdev* d, struct ring* r, uint16_t at, uint32_t q) {
  volatile struct desc* t = r->desc;
  uint64_t buf = r->buffers + 0x800 * (at % 8);
  if (d->type == 2) { /* virtio-blk: header, data, status */
    static const uint32_t types[] = {0, 1, 4, 8, 11, 13, 0xdead};
    volatile uint32_t* h = (volatile uint32_t*)(uintptr_t)buf;
    h[0] = types[below(7)];
    h[1] = 0;
    *(volatile uint64_t*)(uintptr_t)(buf + 8) = chance(4) ? rnd() : below(2048);
    t[at] = (struct desc){buf, 16, F_NEXT, (uint16_t)((at + 1) % r->size)};
    t[(at + 1) % r->size] = (struct desc){buf + 0x200, 512, (uint16_t)(F_NEXT | (h[0] == 0 || h[0] == 8 ? F_WRITE : 0)),
                                          (uint16_t)((at + 2) % r->size)};
    t[(at + 2) % r->size] = (struct desc){buf + 0x7f0, 1, F_WRITE, 0};
    if (h[0] == 11 || h[0] == 13) { /* discard / write zeroes: one segment */
      volatile uint64_t* seg = (volatile uint64_t*)(uintptr_t)(buf + 0x200);
      seg[0] = below(4096);
      seg[1] = below(64) | (uint64_t)below(4) << 32;
      t[(at + 1) % r->size].len = 16;
      t[(at + 1) % r->size].flags = F_NEXT;
    }
    return at;
  }
  /* console transmit / anything else: one readable or writable buffer */
  const char msg[] = "HOSTILE flood: virtio-console transmit\r\n";
  for (size_t i = 0; i + 1 < sizeof msg; ++i) ((volatile char*)(uintptr_t)buf)[i] = msg[i];
  int writable = !(d->type == 3 && q % 2 == 1);
  t[at] = (struct desc){buf, writable ? 0x400 : (uint32_t)(sizeof msg - 1), (uint16_t)(writable ? F_WRITE : 0), 0};
  return at;
}

/* One malformed request: returns its head. */
static uint16_t malformed_chain(struct ring* r, uint16_t at, uint32_t* kind) {
  volatile struct desc* t = r->desc;
  uint16_t n = (uint16_t)r->size;
  uint16_t a = at % n, b = (uint16_t)((at + 1) % n);
  *kind = below(11);
  switch (*kind) {
    case 0: /* a loop of two */
      t[a] = (struct desc){scratch_addr(), 64, F_NEXT, b};
      t[b] = (struct desc){scratch_addr(), 64, F_NEXT | F_WRITE, a};
      break;
    case 1: /* a descriptor that points at itself */
      t[a] = (struct desc){scratch_addr(), 64, F_NEXT, a};
      break;
    case 2: /* buffers outside RAM (or wrapping at 2^64) */
      t[a] = (struct desc){bad_addr(), (uint32_t)(0x1000 + below(0x10000)), F_NEXT, b};
      t[b] = (struct desc){bad_addr(), 1, F_WRITE, 0};
      break;
    case 3: /* lengths near 4 GiB */
      t[a] = (struct desc){scratch_addr(), 0xffffffffu - below(0x1000), F_NEXT, b};
      t[b] = (struct desc){scratch_addr(), 0xfffffff0u, F_WRITE, 0};
      break;
    case 4: /* a chain through every descriptor and back: longer than the queue */
      for (uint16_t i = 0; i < n; ++i) t[i] = (struct desc){scratch_addr(), 16, F_NEXT, (uint16_t)((i + 1) % n)};
      a = 0;
      break;
    case 5: /* next beyond the table */
      t[a] = (struct desc){scratch_addr(), 16, F_NEXT, (uint16_t)(n + below(0x10000 - n))};
      break;
    case 6: { /* an indirect table inside an indirect table */
      volatile struct desc* ind = (volatile struct desc*)(uintptr_t)r->indirect;
      ind[0] = (struct desc){scratch_addr(), 16, F_NEXT, 1};
      ind[1] = (struct desc){r->indirect + 0x100, 0x40, F_INDIRECT, 0};
      volatile struct desc* inner = (volatile struct desc*)(uintptr_t)(r->indirect + 0x100);
      for (int i = 0; i < 4; ++i) inner[i] = (struct desc){scratch_addr(), 16, F_NEXT | F_WRITE, (uint16_t)(i + 1)};
      t[a] = (struct desc){r->indirect, 32, F_INDIRECT, 0};
      break;
    }
    case 7: { /* indirect: odd length, huge length, outside RAM, loop inside, with NEXT */
      volatile struct desc* ind = (volatile struct desc*)(uintptr_t)r->indirect;
      ind[0] = (struct desc){scratch_addr(), 16, F_NEXT, 0}; /* loops to itself */
      switch (below(5)) {
        case 0: t[a] = (struct desc){r->indirect, 17, F_INDIRECT, 0}; break;
        case 1: t[a] = (struct desc){r->indirect, 0xfffffff0u, F_INDIRECT, 0}; break;
        case 2: t[a] = (struct desc){bad_addr(), 0x100, F_INDIRECT, 0}; break;
        case 3: t[a] = (struct desc){r->indirect, 16, F_INDIRECT | F_NEXT, b}; break;
        default: t[a] = (struct desc){r->indirect, 0, F_INDIRECT, 0}; break;
      }
      break;
    }
    case 8: /* zero-length and write-only where the device reads */
      t[a] = (struct desc){scratch_addr(), 0, F_NEXT | F_WRITE, b};
      t[b] = (struct desc){scratch_addr(), 0, 0, 0};
      break;
    case 9: /* a head beyond the ring */
      return (uint16_t)(n + below(0x10000 - n));
    default: /* random bytes */
      for (int i = 0; i < 4; ++i)
        t[(a + i) % n] = (struct desc){rnd(), (uint32_t)rnd(), (uint16_t)rnd(), (uint16_t)rnd()};
      break;
  }
  return a;
}

static const uint64_t bad_ring_addrs_count = 3;

/* Sets the device up: status, features (sometimes ones it never offered),
 * queues (sometimes at addresses outside RAM). Returns the queue count. */
static uint32_t bring_up(struct vdev* d, struct ring* rings, uint32_t maxq) {
  reset(d);
  set_status(d, S_ACK);
  set_status(d, S_ACK | S_DRIVER);
  uint32_t lo = dev_features(d, 0), hi = dev_features(d, 1);
  (void)dev_features(d, below(8)); /* selectors past the end */
  if (chance(8)) {
    lo = (uint32_t)rnd(), hi = (uint32_t)rnd();
  } else if (chance(2)) {
    lo &= (uint32_t)rnd() | (1u << 28); /* keep INDIRECT_DESC when offered */
  }
  drv_features(d, 0, lo);
  drv_features(d, 1, hi);
  drv_features(d, below(4), (uint32_t)rnd()); /* a selector past the end */
  drv_features(d, 0, lo);
  drv_features(d, 1, hi);
  set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK);
  uint32_t nq = num_queues(d);
  if (nq > maxq) nq = maxq;
  for (uint32_t q = 0; q < nq; ++q) {
    struct ring* r = &rings[q];
    uint64_t area = queue_area(d, q);
    memset_((void*)(uintptr_t)area, 0, 0x8000);
    uint32_t max = queue_select(d, q);
    uint32_t size = max > 256 ? 256 : max;
    if (size == 0) size = 1;
    while (size & (size - 1)) size &= size - 1;
    if (chance(4)) size = size > 1 ? size / 2 : 1;
    r->size = size;
    r->desc = (volatile struct desc*)(uintptr_t)area;
    r->avail = (volatile uint16_t*)(uintptr_t)(area + 0x1000);
    r->used = (volatile uint16_t*)(uintptr_t)(area + 0x2000);
    r->indirect = area + 0x8000;
    r->buffers = area + 0xc000;
    r->avail_idx = 0;
    uint64_t da = area, aa = area + 0x1000, ua = area + 0x2000;
    if (chance(8)) {
      switch (below(bad_ring_addrs_count)) {
        case 0: da = bad_addr(); break;
        case 1: aa = bad_addr(); break;
        default: ua = bad_addr(); break;
      }
    } else if (chance(16)) {
      ua = aa + 1; /* misaligned, overlapping the avail ring */
    }
    if (chance(16)) queue_setup(d, 3, da, aa, ua); /* not a power of two first */
    queue_setup(d, size, da, aa, ua);
  }
  set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  return nq;
}

static void attack_device(struct vdev* d) {
  struct ring rings[4];
  uint32_t nq = bring_up(d, rings, 4);
  /* Floods first, while the device still works: valid requests, ring after ring. */
  uint32_t floods = d->type == 2 || d->type == 3 ? 8 : 2;
  for (uint32_t f = 0; f < floods; ++f) {
    for (uint32_t q = 0; q < nq; ++q) {
      struct ring* r = &rings[q];
      uint32_t per = r->size >= 3 ? r->size / 3 : 1;
      if (per > 16) per = 16;
      for (uint32_t k = 0; k < per; ++k) {
        uint16_t at = (uint16_t)((r->avail_idx * 3u) % r->size);
        push(r, valid_chain(d, r, at, q));
        ++d->requests;
      }
      publish(r);
      notify(d, q);
      if (chance(8)) {
        reset(d); /* mid-request */
        nq = bring_up(d, rings, 4);
        break;
      }
      if (!(d->type == 3 && q % 2 == 0)) wait_used(r, r->avail_idx); /* console receive: no input comes */
    }
  }
  /* Then malformed requests on every queue. */
  for (uint32_t q = 0; q < nq; ++q) {
    struct ring* r = &rings[q];
    for (int k = 0; k < 4; ++k) {
      uint32_t kind;
      uint16_t head = malformed_chain(r, (uint16_t)(r->avail_idx * 2u + 8u), &kind);
      push(r, head);
      ++d->malformed;
    }
    if (chance(4)) r->avail_idx = (uint16_t)(r->avail_idx + 0x8000 + below(0x7000)); /* idx far ahead */
    publish(r);
    notify(d, q);
    if (chance(4)) notify(d, q + below(0x100)); /* queues that don't exist */
    if (chance(3)) {
      reset(d); /* mid-request */
      break;
    }
  }
  (void)get_status(d);
}

int in_device_bar(uint64_t a) {
  for (uint32_t k = 0; k < ndevs; ++k)
    if (devs[k].transport == T_PCI && a >= devs[k].base && a < devs[k].base + plat.bar_stride) return 1;
  return 0;
}

static void mmio_round(void) {
  /* ECAM: every present function's header and capabilities, then random spots. */
  for (uint32_t i = 0; i < ndevs; ++i) {
    if (devs[i].transport != T_PCI) continue;
    uint64_t f = plat.ecam_base + ((uint64_t)devs[i].pci_dev << 15);
    for (uint32_t off = 0; off < 0x100; off += 4) poke_mmio(f + off + below(4));
  }
  for (int i = 0; i < 256; ++i) poke_mmio(plat.ecam_base + below((uint32_t)plat.ecam_size));
  /* A stray BAR may sit anywhere now; the devices' BARs go back first. */
  pci_place_bars();
  for (uint32_t i = 0; i < ndevs; ++i) {
    struct vdev* d = &devs[i];
    uint64_t span = d->transport == T_PCI ? plat.msix_table_offset : plat.vmmio_stride;
    for (int k = 0; k < 128; ++k) poke_mmio(d->base + below((uint32_t)span));
  }
  for (uint32_t s = 0; s < plat.vmmio_slots; ++s)
    for (uint32_t off = 0; off < plat.vmmio_stride; off += 4) poke_mmio(plat.vmmio_base + plat.vmmio_stride * s + off);
  /* The arch's other windows and its unclaimed gaps. */
  arch_mmio_round();
}

/* ---- main --------------------------------------------------------------- */

void hostile_run(void) {
  arch_console_reset();
  puts_("HOSTILE start seed=");
  putx(rng_state);
  puts_(" ram_end=");
  putx(plat.ram_end);
  arch_start_details();
  puts_("\r\n");
  find_devices();
  for (uint32_t i = 0; i < ndevs; ++i) {
    puts_("HOSTILE device ");
    putu(i);
    puts_(devs[i].transport == T_PCI ? " virtio-pci slot " : " virtio-mmio at ");
    if (devs[i].transport == T_PCI) putu(devs[i].pci_dev);
    else putx(devs[i].base);
    puts_(" type ");
    putu(devs[i].type);
    puts_("\r\n");
  }
  for (uint64_t round = 1;; ++round) {
    arch_round();
    mmio_round();
    pci_place_bars();
    for (uint32_t i = 0; i < ndevs; ++i) attack_device(&devs[i]);
    uint64_t req = 0, bad = 0, resets = 0;
    for (uint32_t i = 0; i < ndevs; ++i) req += devs[i].requests, bad += devs[i].malformed, resets += devs[i].resets;
    arch_console_reset();
    puts_("HOSTILE round ");
    putu(round);
    arch_round_details();
    puts_(" mmio=");
    putu(mmio_accesses);
    puts_(" requests=");
    putu(req);
    puts_(" malformed=");
    putu(bad);
    puts_(" resets=");
    putu(resets);
    puts_("\r\n");
  }
}

void hostile_misplaced(uint64_t at) {
  arch_console_reset();
  puts_("HOSTILE-FAULT: loaded at ");
  putx(at);
  puts_(", linked for the start of RAM (text_offset 0)\r\n");
}
