/* The hostile test guest, aarch64 part (hostile_core.c is the attack all
 * architectures share). Entered like a Linux arm64 Image (the 64-byte header
 * below; EL1h, MMU and caches off, x0 = the device tree) and linked where
 * minivmm loads an Image with text_offset 0: the start of RAM. It reads
 * /memory and /chosen/bootargs (hostile.seed=N) from the device tree, then
 * runs the shared rounds with, as this arch's part:
 *   - PCI configuration space through ECAM only (no I/O ports on arm64);
 *   - random accesses to the 16550A and to every unclaimed address range
 *     of minivmm's aarch64 map (boot/include/boot/memory_map_aarch64.h,
 *     device_map.h): below the GIC, between the UART and the virtio-mmio
 *     slots, after them up to the BAR window, the BAR window outside the
 *     devices' BARs, between ECAM and RAM, and above RAM (the 64-bit BAR
 *     window).
 * Left alone: the GIC's distributor, ITS and redistributors (0x0800_0000 up
 * to the UART). They are KVM's in-kernel vGIC, not minivmm's surface: an
 * access there never leaves the host kernel, so it would test KVM, not the
 * VMM (the same reason hostile_x86_64.c leaves KVM's PIC and PIT alone),
 * and random writes there can enable and route interrupts this guest never
 * acks. Nor PSCI (SYSTEM_OFF and SYSTEM_RESET end the VM on purpose; the
 * rest is KVM's too), nor the MSI-X tables (hostile_x86_64.c says why).
 *
 * With the MMU off every data access is Device-nGnRnE, so this file is
 * built with -mstrict-align (a misaligned access would fault in the guest
 * before the VMM ever saw it: plat.unaligned_mmio = 0) and -mgeneral-regs-only
 * (FP/SIMD may trap at EL1 after reset). Exception vectors (VBAR_EL1) print
 * HOSTILE-FAULT with ESR/ELR/FAR and stop; SErrors are unmasked so that an
 * external abort shows up there too. */
#include "hostile.h"

#define RAM_BASE 0x80000000ull
#define UART 0x09000000ull
#define UART_SIZE 0x1000ull
#define GIC_START 0x08000000ull /* distributor, ITS, redistributors: KVM's */
#define GIC_END 0x09000000ull
#define VMMIO_BASE 0x0a000000ull
#define VMMIO_SLOTS 32
#define BAR_WINDOW 0x10000000ull
#define BAR_WINDOW_END 0x3f000000ull
#define ECAM 0x3f000000ull
#define ECAM_SIZE 0x100000ull

/* ---- entry and exception vectors ---------------------------------------- */

__asm__(
    ".section .head, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "  b entry\n"             /* code0 */
    "  .word 0\n"             /* code1 */
    "  .quad 0\n"             /* text_offset: loaded at the start of RAM */
    "  .quad _image_size\n"   /* image_size, bss included */
    "  .quad 0xa\n"           /* flags: little-endian, 4 KiB pages, anywhere */
    "  .quad 0, 0, 0\n"       /* res2..res4 */
    "  .ascii \"ARM\\x64\"\n" /* magic */
    "  .word 0\n"             /* res5 */
    ".text\n"
    "entry:\n"
    "  msr daifset, #0xf\n"
    "  adrp x1, stack_top\n"
    "  add x1, x1, :lo12:stack_top\n"
    "  mov sp, x1\n"
    "  adrp x1, vectors\n"
    "  add x1, x1, :lo12:vectors\n"
    "  msr vbar_el1, x1\n"
    "  isb\n"
    "  msr daifclr, #4\n" /* SError: reported, not left pending */
    "  adr x1, _start\n"  /* where we run against where we are linked */
    "  ldr x2, =_start\n"
    "  cmp x1, x2\n"
    "  b.ne 2f\n"
    "  bl hostile_main\n" /* x0: the device tree */
    "1: wfi\n"
    "  b 1b\n"
    "2: mov x0, x1\n"
    "  bl hostile_misplaced\n"
    "  b 1b\n"
    ".ltorg\n"
    ".balign 2048\n"
    "vectors:\n"
    ".irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n"
    ".balign 128\n"
    "  mov x3, #\\n\n"
    "  b vector_common\n"
    ".endr\n"
    "vector_common:\n"
    "  msr daifset, #0xf\n"
    "  mrs x0, esr_el1\n"
    "  mrs x1, elr_el1\n"
    "  mrs x2, far_el1\n"
    "  adrp x4, stack_top\n"
    "  add x4, x4, :lo12:stack_top\n"
    "  mov sp, x4\n"
    "  bl hostile_fault\n"
    "3: wfi\n"
    "  b 3b\n");

__attribute__((aligned(16), used)) uint8_t hostile_stack[32768];
__asm__(".set stack_top, hostile_stack + 32768");

void arch_barrier(void) { __asm__ volatile("dsb sy" ::: "memory"); }
void arch_relax(void) { __asm__ volatile("yield"); }

/* ---- the 16550A (byte registers at 0x0900_0000) ------------------------- */

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

static const char* const vector_names[4] = {"sync", "irq", "fiq", "serror"};

void hostile_fault(uint64_t esr, uint64_t elr, uint64_t far, uint64_t vector);
void hostile_fault(uint64_t esr, uint64_t elr, uint64_t far, uint64_t vector) {
  arch_console_reset();
  puts_("HOSTILE-FAULT: the guest took an exception (a guest bug, not the VMM's): ");
  puts_(vector_names[vector & 3]);
  puts_(" vector=");
  putu(vector);
  puts_(" esr=");
  putx(esr);
  puts_(" elr=");
  putx(elr);
  puts_(" far=");
  putx(far);
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
    .foreign_mmio = GIC_START, /* the vGIC distributor, as a DMA address */
    .dma_gap = 0x40000000ull,  /* between ECAM and RAM */
    .dma_gap_mask = 0x3ffff000ull,
    .unaligned_mmio = 0,
};

int arch_knob(const char* word) {
  (void)word;
  return 0;
}

uint32_t arch_cfg_read(uint32_t dev, uint32_t reg) { return r32(ECAM + ((uint64_t)dev << 15) + (reg & 0xffc)); }
void arch_cfg_write(uint32_t dev, uint32_t reg, uint32_t v) { w32(ECAM + ((uint64_t)dev << 15) + (reg & 0xffc), v); }

/* Nothing but MMIO is minivmm's here: PSCI and the rest of SMCCC are
 * answered by KVM. */
void arch_round(void) {}

struct range {
  uint64_t start, end;
};

void arch_mmio_round(void) {
  /* The UART's registers, then anywhere in its page. */
  for (uint64_t off = 0; off < 8; ++off) poke_mmio(UART + off);
  for (int i = 0; i < 32; ++i) poke_mmio(UART + below(UART_SIZE));
  /* Unclaimed ranges (and the BAR window outside the devices' BARs). */
  const uint64_t mmio64 = (plat.ram_end + (1ull << 30) - 1) & ~((1ull << 30) - 1);
  const struct range gaps[] = {
      {0, GIC_START},
      {UART + UART_SIZE, VMMIO_BASE},
      {VMMIO_BASE + 0x200ull * VMMIO_SLOTS, BAR_WINDOW},
      {BAR_WINDOW, BAR_WINDOW_END},
      {ECAM + ECAM_SIZE, RAM_BASE},
      {plat.ram_end, mmio64 + (16ull << 30)}, /* above RAM: the 64-bit BAR window, unused here */
  };
  for (int i = 0; i < 64; ++i) {
    const struct range* g = &gaps[below(sizeof gaps / sizeof gaps[0])];
    uint64_t a = g->start + rnd() % (g->end - g->start);
    if (!in_device_bar(a)) poke_mmio(a);
  }
}

void arch_start_details(void) {
  puts_(" arch=aarch64 skipped (KVM's): GIC ");
  putx(GIC_START);
  puts_("-");
  putx(GIC_END - 1);
}

void arch_round_details(void) {}

/* ---- main --------------------------------------------------------------- */

void hostile_main(uint64_t dtb);
void hostile_main(uint64_t dtb) {
  const char* args = 0;
  size_t len = 0;
  (void)fdt_read(dtb, &plat.ram_end, &args, &len);
  if (args) hostile_cmdline(args, len);
  hostile_run();
}
