/* The hostile test guest, riscv64 part (hostile_core.c is the attack all
 * architectures share). Entered like a Linux riscv64 Image (the 64-byte
 * header below; S-mode, MMU off, a0 = hart id, a1 = the device tree) and
 * linked where minivmm loads an Image with text_offset 0: the start of RAM.
 * It reads /memory and /chosen/bootargs (hostile.seed=N, hostile.sbi=N)
 * from the device tree, then runs the shared rounds with, as this arch's
 * part:
 *   - random SBI calls (hostile.sbi=N a round): minivmm answers the calls
 *     KVM forwards (the legacy console, the debug console DBCN with guest
 *     addresses and lengths, the experimental and vendor ranges:
 *     vmm/arch/riscv64/sbi.cc), so those get most of them, with random or
 *     hostile arguments; the rest go to random extensions and to KVM's own.
 *     Never SRST (system reset and shutdown), SUSP (system suspend), the
 *     legacy SHUTDOWN (EID 8), or HSM hart_stop / hart_suspend: they end or
 *     stop this guest on purpose. The legacy calls that take a pointer to a
 *     hart mask (EIDs 4..7) get a valid one: KVM turns a bad one into a
 *     fault of this guest, which would test the guest, not the VMM;
 *   - the PLIC (0x0c00_0000, 64 MiB): minivmm emulates it in user space
 *     (devices/plic.h; it does not use KVM's AIA), so it is the VMM's surface
 *     and attacked like the UART: priorities, pending bits, each context's
 *     enables, threshold and claim/complete, and random spots of the window;
 *   - PCI configuration space through ECAM only;
 *   - the 16550A and every unclaimed range of minivmm's riscv64 map
 *     (boot/include/boot/memory_map_riscv64.h, device_map.h), the unused
 *     APLIC and IMSIC places included, and above RAM.
 * Interrupts stay off (sie = 0, sstatus.SIE = 0): whatever the random PLIC
 * and UART writes raise stays pending. Any trap lands in stvec, which prints
 * HOSTILE-FAULT with scause/sepc/stval and stops. */
#include "hostile.h"

#define RAM_BASE 0x80000000ull
#define PLIC 0x0c000000ull
#define PLIC_SIZE 0x04000000ull
#define PLIC_SOURCES 32 /* 1..31 exist */
#define UART 0x10000000ull
#define UART_SIZE 0x100ull
#define VMMIO_BASE 0x10001000ull
#define VMMIO_SLOTS 8
#define ECAM 0x30000000ull
#define ECAM_SIZE 0x100000ull
#define BAR_WINDOW 0x40000000ull

/* ---- entry and the trap vector ------------------------------------------- */

__asm__(
    ".option push\n"
    ".option norvc\n"
    ".section .head, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "  j entry\n"              /* code0 */
    "  .word 0\n"              /* code1 */
    "  .dword 0\n"             /* text_offset: loaded at the start of RAM */
    "  .dword _image_size\n"   /* image_size, bss included */
    "  .dword 0\n"             /* flags: little-endian */
    "  .word 2\n"              /* version 0.2 */
    "  .word 0\n"              /* res1 */
    "  .dword 0\n"             /* res2 */
    "  .ascii \"RISCV\\0\\0\\0\"\n" /* magic (deprecated) */
    "  .ascii \"RSC\\x05\"\n"  /* magic2 */
    "  .word 0\n"              /* res3 */
    ".text\n"
    "entry:\n"
    "  csrw sie, zero\n"
    "  csrci sstatus, 2\n" /* SIE */
    "  lla sp, stack_top\n"
    "  lla t0, trap_entry\n"
    "  csrw stvec, t0\n"
    "  lla t0, _start\n" /* where we run against where we are linked */
    "  lla t1, link_address\n"
    "  ld t1, 0(t1)\n"
    "  bne t0, t1, 2f\n"
    "  call hostile_main\n" /* a0 = hart id, a1 = the device tree */
    "1: wfi\n"
    "  j 1b\n"
    "2: mv a0, t0\n"
    "  call hostile_misplaced\n"
    "  j 1b\n"
    ".balign 8\n"
    "link_address: .dword _start\n"
    ".balign 4\n"
    "trap_entry:\n"
    "  csrr a0, scause\n"
    "  csrr a1, sepc\n"
    "  csrr a2, stval\n"
    "  lla sp, stack_top\n"
    "  call hostile_fault\n"
    "3: wfi\n"
    "  j 3b\n"
    ".option pop\n");

__attribute__((aligned(16), used)) uint8_t hostile_stack[32768];
__asm__(".set stack_top, hostile_stack + 32768");

void arch_barrier(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }
void arch_relax(void) { __asm__ volatile("nop"); }

/* ---- the 16550A (byte registers at 0x1000_0000) ------------------------- */

void arch_console_reset(void) {
  w8(UART + 3, 0x03); /* LCR: 8N1, DLAB off */
  w8(UART + 1, 0x00); /* IER */
  w8(UART + 4, 0x03); /* MCR: DTR, RTS, no loopback */
}
void arch_putc(char c) {
  for (int i = 0; i < 100000 && !(r8(UART + 5) & 0x20); ++i) {
  }
  w8(UART, (uint8_t)c);
}

void hostile_fault(uint64_t scause, uint64_t sepc, uint64_t stval);
void hostile_fault(uint64_t scause, uint64_t sepc, uint64_t stval) {
  arch_console_reset();
  puts_("HOSTILE-FAULT: the guest took a trap (a guest bug, not the VMM's): scause=");
  putx(scause);
  puts_(" sepc=");
  putx(sepc);
  puts_(" stval=");
  putx(stval);
  puts_("\r\n");
}

/* ---- the platform --------------------------------------------------------- */

struct hostile_platform plat = {
    .ram_end = RAM_BASE + (256ull << 20), /* from the device tree's /memory */
    .ecam_base = ECAM,
    .ecam_size = ECAM_SIZE,
    .vmmio_base = VMMIO_BASE,
    .vmmio_stride = 0x200,
    .vmmio_slots = VMMIO_SLOTS,
    .bar_base = BAR_WINDOW,
    .bar_stride = 0x100000ull,
    .msix_table_offset = 0x4000,
    .scratch = RAM_BASE + 0x400000ull, /* the image, its bss and stack are below */
    .scratch_end = RAM_BASE + 0x1000000ull,
    .foreign_mmio = 0x28000000ull, /* where an IMSIC would be: nobody's here */
    .dma_gap = 0x20000000ull,      /* between the virtio-mmio slots and ECAM */
    .dma_gap_mask = 0x0ffff000ull,
    .unaligned_mmio = 0,
};

static uint32_t sbi_per_round = 256;

int arch_knob(const char* s) {
  if (!starts(s, "hostile.sbi=")) return 0;
  sbi_per_round = (uint32_t)parse_num(s + 12);
  return 1;
}

uint32_t arch_cfg_read(uint32_t dev, uint32_t reg) { return r32(ECAM + ((uint64_t)dev << 15) + (reg & 0xffc)); }
void arch_cfg_write(uint32_t dev, uint32_t reg, uint32_t v) { w32(ECAM + ((uint64_t)dev << 15) + (reg & 0xffc), v); }

/* ---- SBI ------------------------------------------------------------------ */

#define EID_LEGACY_SHUTDOWN 0x08
#define EID_BASE 0x10
#define EID_TIME 0x54494d45
#define EID_IPI 0x735049
#define EID_RFENCE 0x52464e43
#define EID_HSM 0x48534d
#define EID_SRST 0x53525354
#define EID_PMU 0x504d55
#define EID_DBCN 0x4442434e
#define EID_SUSP 0x53555350
#define EID_STA 0x535441
#define HSM_HART_STOP 1
#define HSM_HART_SUSPEND 3

static uint64_t sbi_calls, sbi_skipped;
static volatile uint64_t legacy_hart_mask;

struct sbiret {
  int64_t error;
  uint64_t value;
};

static struct sbiret sbi_call(uint64_t eid, uint64_t fid, const uint64_t a[6]) {
  register uint64_t a0 __asm__("a0") = a[0];
  register uint64_t a1 __asm__("a1") = a[1];
  register uint64_t a2 __asm__("a2") = a[2];
  register uint64_t a3 __asm__("a3") = a[3];
  register uint64_t a4 __asm__("a4") = a[4];
  register uint64_t a5 __asm__("a5") = a[5];
  register uint64_t a6 __asm__("a6") = fid;
  register uint64_t a7 __asm__("a7") = eid;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7) : "memory");
  return (struct sbiret){(int64_t)a0, a1};
}

/* The calls that end or stop this guest on purpose. */
static int sbi_forbidden(uint64_t eid, uint64_t fid) {
  if (eid == EID_SRST || eid == EID_SUSP || eid == EID_LEGACY_SHUTDOWN) return 1;
  return eid == EID_HSM && (fid == HSM_HART_STOP || fid == HSM_HART_SUSPEND);
}

static void sbi_round(void) {
  /* KVM's own extensions get some too, but not PMU: random counter
   * configurations would program perf events of the host kernel, which is
   * KVM's business and no part of minivmm (a random EID still may hit it). */
  static const uint64_t kvm_eids[] = {EID_BASE, EID_TIME, EID_IPI, EID_RFENCE, EID_HSM, EID_STA};
  for (uint32_t i = 0; i < sbi_per_round; ++i) {
    uint64_t a[6], eid, fid = rnd();
    for (int k = 0; k < 6; ++k) a[k] = rnd();
    switch (below(10)) {
      case 0:
      case 1: eid = 0x08000000u + below(0x1000000); break; /* experimental: forwarded to the VMM */
      case 2: eid = 0x09000000u + below(0x1000000); break; /* vendor: forwarded */
      case 3:
      case 4: /* the debug console: write, read, write_byte, and past them */
        eid = EID_DBCN;
        fid = below(5);
        a[0] = chance(2) ? below(0x2000) : a[0];
        a[1] = chance(2) ? scratch_addr() : bad_addr();
        a[2] = chance(4) ? a[2] : 0;
        break;
      case 5: /* legacy set_timer, console_putchar, console_getchar */
        eid = below(3);
        break;
      case 6: eid = 3 + below(5); break; /* legacy clear_ipi, send_ipi and the fences */
      case 7: eid = kvm_eids[below(sizeof kvm_eids / sizeof kvm_eids[0])], fid = below(16); break;
      default: eid = (uint32_t)rnd(); break;
    }
    if (eid >= 4 && eid <= 7) { /* these read a hart mask through a0 */
      legacy_hart_mask = rnd();
      a[0] = (uint64_t)(uintptr_t)&legacy_hart_mask;
    }
    if (sbi_forbidden(eid, fid)) {
      ++sbi_skipped;
      continue;
    }
    (void)sbi_call(eid, fid, a);
    ++sbi_calls;
  }
}

void arch_round(void) { sbi_round(); }

/* ---- MMIO windows ---------------------------------------------------------- */

struct range {
  uint64_t start, end;
};

void arch_mmio_round(void) {
  /* The UART's registers, then anywhere in its window. */
  for (uint64_t off = 0; off < 8; ++off) poke_mmio(UART + off);
  for (int i = 0; i < 32; ++i) poke_mmio(UART + below(UART_SIZE));
  /* The PLIC (SiFive layout): priorities, pending, context 0's and 1's
   * enables, threshold and claim/complete, then anywhere in its 64 MiB. */
  for (int i = 0; i < 32; ++i) poke_mmio(PLIC + 4 * below(PLIC_SOURCES + 2));
  for (int i = 0; i < 8; ++i) poke_mmio(PLIC + 0x1000 + 4 * below(2));
  for (int i = 0; i < 16; ++i) poke_mmio(PLIC + 0x2000 + 0x80 * below(2) + 4 * below(2));
  for (int i = 0; i < 32; ++i) poke_mmio(PLIC + 0x200000 + 0x1000 * below(2) + 4 * below(2));
  for (int i = 0; i < 32; ++i) poke_mmio(PLIC + below(PLIC_SIZE));
  /* Unclaimed ranges (and the BAR window outside the devices' BARs). */
  const uint64_t mmio64 = (plat.ram_end + (1ull << 30) - 1) & ~((1ull << 30) - 1);
  const struct range gaps[] = {
      {0, PLIC},
      {UART + UART_SIZE, VMMIO_BASE},
      {VMMIO_BASE + 0x200ull * VMMIO_SLOTS, ECAM}, /* the IMSIC's place included: no AIA here */
      {ECAM + ECAM_SIZE, BAR_WINDOW},
      {BAR_WINDOW, RAM_BASE},
      {plat.ram_end, mmio64 + (16ull << 30)}, /* above RAM: the 64-bit BAR window, unused here */
  };
  for (int i = 0; i < 64; ++i) {
    const struct range* g = &gaps[below(sizeof gaps / sizeof gaps[0])];
    uint64_t a = g->start + rnd() % (g->end - g->start);
    if (!in_device_bar(a)) poke_mmio(a);
  }
}

void arch_start_details(void) {
  puts_(" arch=riscv64 sbi/round=");
  putu(sbi_per_round);
  puts_(" skipped: SBI SRST, SUSP, legacy SHUTDOWN, HSM hart_stop/hart_suspend");
}

void arch_round_details(void) {
  puts_(" sbi=");
  putu(sbi_calls);
}

/* ---- main --------------------------------------------------------------- */

void hostile_main(uint64_t hart, uint64_t dtb);
void hostile_main(uint64_t hart, uint64_t dtb) {
  (void)hart;
  const char* args = 0;
  size_t len = 0;
  (void)fdt_read(dtb, &plat.ram_end, &args, &len);
  if (args) hostile_cmdline(args, len);
  hostile_run();
}
