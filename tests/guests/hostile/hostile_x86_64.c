/* The hostile test guest, x86_64 part (hostile_core.c is the attack all
 * architectures share). Entered by the Linux 64-bit boot protocol (--boot
 * linux with this ELF as the kernel: long mode, the first 4 GiB
 * identity-mapped, rsi = zero page); adds to the shared rounds:
 *   - random writes and reads, of every size, to the I/O ports (a slice of
 *     0..0xFFFF per round, the VMM's own devices every round), except the
 *     two that would end the VM on purpose, the i8042 command port (0xFE
 *     resets) and ACPI PM1a_CNT (SLP_EN powers off), and the ports of the
 *     devices KVM emulates in the host kernel (kvm_owned_ports below);
 *   - PCI configuration space through mechanism #1 (0xCF8/0xCFC) as well
 *     as ECAM, and random addresses of the 3..4 GiB gap nobody claims.
 * The 16550 at 0x3f8 is its console.
 *
 * Left alone, because they are not the VMM's surface or would only hurt the
 * guest itself: KVM's in-kernel PIC, PIT, LAPIC and IOAPIC, and the MSI-X tables
 * (an unmasked entry with random contents may deliver INIT to the vCPU,
 * which then waits for a SIPI forever). NMIs are survived by an IDT whose
 * NMI gate returns; any other exception prints HOSTILE-FAULT and halts.
 *
 * A PVH entry (32-bit) builds the same identity map itself, so --boot pvh
 * and QEMU's -kernel run it too (without a zero page: defaults apply).
 *
 * hostile.seed=N sets the seed (hostile_core.c); hostile.pio=N how many
 * ports a round sweeps. */
#include "hostile.h"

/* ---- entry ------------------------------------------------------------ */

/* PVH (32-bit, paging off; QEMU's -kernel takes the same note): builds the
 * 4 GiB identity map the Linux entry would have, enters long mode and calls
 * hostile_main without a zero page (defaults for RAM size and seed). */
__asm__(
    ".section .note.Xen, \"a\", @note\n"
    ".balign 4\n"
    ".long 4, 4, 18\n" /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    ".asciz \"Xen\"\n"
    ".balign 4\n"
    ".long pvh_entry\n"
    ".balign 4\n"
    ".text\n"
    ".code32\n"
    ".globl pvh_entry\n"
    "pvh_entry:\n"
    "  cli\n"
    "  movl $pvh_pd, %edi\n" /* 4 PDs of 2 MiB pages: 0..4 GiB */
    "  xorl %ecx, %ecx\n"
    "1: movl %ecx, %eax\n"
    "  shll $21, %eax\n"
    "  orl $0x83, %eax\n" /* present, writable, 2 MiB */
    "  movl %ecx, %edx\n"
    "  shrl $11, %edx\n" /* bits 32+ of the address */
    "  movl %eax, (%edi,%ecx,8)\n"
    "  movl %edx, 4(%edi,%ecx,8)\n"
    "  incl %ecx\n"
    "  cmpl $2048, %ecx\n"
    "  jne 1b\n"
    "  movl $pvh_pdpt, %edi\n"
    "  xorl %ecx, %ecx\n"
    "2: movl %ecx, %eax\n"
    "  shll $12, %eax\n"
    "  addl $pvh_pd + 3, %eax\n"
    "  movl %eax, (%edi,%ecx,8)\n"
    "  movl $0, 4(%edi,%ecx,8)\n"
    "  incl %ecx\n"
    "  cmpl $4, %ecx\n"
    "  jne 2b\n"
    "  movl $pvh_pdpt + 3, pvh_pml4\n"
    "  movl $pvh_pml4, %eax\n"
    "  movl %eax, %cr3\n"
    "  movl %cr4, %eax\n"
    "  orl $0x20, %eax\n" /* PAE */
    "  movl %eax, %cr4\n"
    "  movl $0xc0000080, %ecx\n" /* EFER.LME */
    "  rdmsr\n"
    "  orl $0x100, %eax\n"
    "  wrmsr\n"
    "  movl %cr0, %eax\n"
    "  orl $0x80000001, %eax\n" /* PG, PE */
    "  movl %eax, %cr0\n"
    "  lgdt pvh_gdtr\n"
    "  ljmp $0x08, $pvh_long\n"
    ".code64\n"
    "pvh_long:\n"
    "  movl $0x10, %eax\n"
    "  movl %eax, %ds\n"
    "  movl %eax, %es\n"
    "  movl %eax, %ss\n"
    "  leaq stack_top(%rip), %rsp\n"
    "  xorl %edi, %edi\n" /* no zero page */
    "  call hostile_main\n"
    "3: hlt\n"
    "  jmp 3b\n"
    ".section .rodata\n"
    ".balign 16\n"
    "pvh_gdt:\n"
    "  .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff\n" /* null, code64, data */
    "pvh_gdtr:\n"
    "  .word 23\n"
    "  .long pvh_gdt\n"
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  cli\n"
    "  leaq stack_top(%rip), %rsp\n"
    "  movq %rsi, %rdi\n"
    "  call hostile_main\n"
    "1: hlt\n"
    "  jmp 1b\n"
    ".globl nmi_stub\n"
    "nmi_stub:\n"
    "  iretq\n"
    ".globl fault_stub\n"
    "fault_stub:\n"
    "  leaq stack_top(%rip), %rsp\n"
    "  call hostile_fault\n"
    "2: cli\n"
    "  hlt\n"
    "  jmp 2b\n");

extern char nmi_stub[], fault_stub[];
__attribute__((aligned(4096), used)) uint64_t pvh_pml4[512], pvh_pdpt[512], pvh_pd[4 * 512];
__attribute__((aligned(16), used)) uint8_t hostile_stack[32768];
__asm__(".set stack_top, hostile_stack + 32768");

/* ---- port access ------------------------------------------------------- */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
  return v;
}
static inline uint16_t inw(uint16_t p) {
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p));
  return v;
}
static inline uint32_t inl(uint16_t p) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
  return v;
}
void arch_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }
void arch_relax(void) { __asm__ volatile("pause"); }

/* ---- the 16550 ---------------------------------------------------------- */

void arch_console_reset(void) {
  outb(0x3fb, 0x03); /* LCR: 8N1, DLAB off */
  outb(0x3f9, 0x00); /* IER */
  outb(0x3fc, 0x03); /* MCR: DTR, RTS, no loopback */
}
void arch_putc(char c) {
  for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); ++i) {
  }
  outb(0x3f8, (uint8_t)c);
}

void hostile_fault(void) {
  arch_console_reset();
  puts_("HOSTILE-FAULT: the guest took an exception (a guest bug, not the VMM's)\r\n");
}

/* ---- the platform (boot/include/boot/device_map.h, layout_x86.h) --------- */

#define ACPI_PM1A_CNT 0x604
#define I8042_CMD 0x64
#define GAP_START 0xc0000000ull
#define IOAPIC 0xfec00000ull

/* Where this guest puts the virtio BARs: the 32-bit PCI window, 1 MiB apart.
 * Guest memory it lets devices write: rings from 4 MiB, random "in RAM"
 * buffers up to 16 MiB. The code, stack, zero page and page tables are all
 * below. */
struct hostile_platform plat = {
    .ram_end = 0x10000000ull, /* from the e820 map */
    .ecam_base = 0xe0000000ull,
    .ecam_size = 0x100000ull,
    .vmmio_base = 0xe0100000ull,
    .vmmio_stride = 0x200,
    .vmmio_slots = 5,
    .bar_base = 0xc0000000ull,
    .bar_stride = 0x100000ull,
    .msix_table_offset = 0x4000, /* VirtioPci::kMsixTableOffset: left alone */
    .scratch = 0x400000ull,
    .scratch_end = 0x1000000ull,
    .foreign_mmio = 0xfee00000ull, /* the LAPIC */
    .dma_gap = GAP_START,
    .dma_gap_mask = 0x3ffff000ull,
    .unaligned_mmio = 1,
};

static uint32_t pio_per_round = 4096;

/* ---- IDT: NMIs return, everything else reports ------------------------- */

struct __attribute__((packed)) idt_gate {
  uint16_t off0, sel;
  uint8_t ist, type;
  uint16_t off1;
  uint32_t off2, zero;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void setup_idt(void) {
  uint16_t cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  for (int v = 0; v < 256; ++v) {
    uint64_t h = (uint64_t)(uintptr_t)(v == 2 ? nmi_stub : fault_stub);
    idt[v].off0 = (uint16_t)h;
    idt[v].sel = cs;
    idt[v].ist = 0;
    idt[v].type = 0x8e; /* present, interrupt gate */
    idt[v].off1 = (uint16_t)(h >> 16);
    idt[v].off2 = (uint32_t)(h >> 32);
    idt[v].zero = 0;
  }
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
  __asm__ volatile("lidt %0" ::"m"(idtr));
}

/* ---- boot data ---------------------------------------------------------- */

int arch_knob(const char* s) {
  if (!starts(s, "hostile.pio=")) return 0;
  pio_per_round = (uint32_t)parse_num(s + 12);
  return 1;
}

static void read_boot_data(const uint8_t* zp) {
  uint8_t n = zp[0x1e8];
  uint64_t end = 0;
  for (unsigned i = 0; i < n && i < 128; ++i) {
    const uint8_t* e = zp + 0x2d0 + 20 * i;
    uint64_t addr = *(const uint64_t*)e, size = *(const uint64_t*)(e + 8);
    uint32_t type = *(const uint32_t*)(e + 16);
    if (type == 1 && addr + size > end) end = addr + size;
  }
  if (end) plat.ram_end = end;
  const char* cmd = (const char*)(uintptr_t)(*(const uint32_t*)(zp + 0x228) | (uint64_t)zp[0xc8] << 32);
  if (!cmd) return;
  hostile_cmdline(cmd, (size_t)-1);
}

/* ---- random PIO and MMIO ------------------------------------------------ */

/* The ports of the devices KVM emulates in the host kernel (the VMM asks for
 * its irqchip and PIT: vmm/arch/x86_64/x86_vm.cc). An access there never
 * reaches minivmm, so it tests KVM, not the VMM, and it can hurt the host:
 * random bytes on 0x43/0x40 program the PIT's channel 0 periodic with a tiny
 * count, and KVM then fires a host hrtimer every 200 us (its floor for a
 * guest's periodic timer), for good, since this guest never acks IRQ 0. In
 * the nested harness (L1 under QEMU TCG, one CPU) that timer load plus
 * the guest's exits starved L1: the VMM outlived its --timeout and L1 its
 * step timeout (2 runs of 3, 2026-12-05). poke_port() checks every port
 * against this list, so a port added to busy_ports or swept at random
 * cannot reach them; lib_hostile_l2.sh fails the run if L1's kernel log
 * shows KVM's PIT or PIC was reached anyway. */
static const struct {
  uint16_t first, last;
} kvm_owned_ports[] = {
    {0x20, 0x21},   /* 8259A PIC, master */
    {0x40, 0x43},   /* 8254 PIT */
    {0x61, 0x61},   /* PIT channel 2 gate and speaker (KVM_PIT_SPEAKER_DUMMY) */
    {0xa0, 0xa1},   /* 8259A PIC, slave */
    {0x4d0, 0x4d1}, /* the PICs' edge/level control registers */
};

static int port_forbidden(uint32_t port, uint32_t size) {
  /* The access [port, port+size) must not touch the reset or poweroff ports. */
  for (uint32_t p = port; p < port + size; ++p) {
    if (p == I8042_CMD || p == ACPI_PM1A_CNT || p == ACPI_PM1A_CNT + 1) return 1;
    for (size_t i = 0; i < sizeof kvm_owned_ports / sizeof kvm_owned_ports[0]; ++i)
      if (p >= kvm_owned_ports[i].first && p <= kvm_owned_ports[i].last) return 1;
  }
  return 0;
}

static uint64_t pio_accesses;

/* A write then a read of each size (all_sizes) or of one size picked at
 * random: the sweep then costs two exits a port. */
static void poke_port(uint32_t port, int all_sizes) {
  static const uint8_t sizes[3] = {1, 2, 4};
  uint32_t pick = below(3);
  for (uint32_t i = 0; i < 3; ++i) {
    if (!all_sizes && i != pick) continue;
    uint32_t size = sizes[i];
    if (port + size > 0x10000 || port_forbidden(port, size)) continue;
    uint32_t v = (uint32_t)rnd();
    if (size == 1) outb((uint16_t)port, (uint8_t)v), (void)inb((uint16_t)port);
    if (size == 2) outw((uint16_t)port, (uint16_t)v), (void)inw((uint16_t)port);
    if (size == 4) outl((uint16_t)port, v), (void)inl((uint16_t)port);
    pio_accesses += 2;
  }
}

/* The ports the VMM has devices on: hit every round. */
static const uint16_t busy_ports[] = {0x60,  0x70,  0x71,  0x80,  0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd,
                                      0x3fe, 0x3ff, 0x600, 0x601, 0x602, 0x603, 0x606, 0x607, 0xcf8, 0xcf9,
                                      0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff};

static uint32_t pio_cursor;
static uint64_t pio_sweeps;

static void pio_round(void) {
  for (size_t i = 0; i < sizeof busy_ports / sizeof busy_ports[0]; ++i) poke_port(busy_ports[i], 1);
  /* Random latches then config data through mechanism #1, every size. */
  for (int i = 0; i < 64; ++i) {
    outl(0xcf8, (uint32_t)rnd() | 0x80000000u);
    poke_port(0xcfc + below(4), 0);
  }
  for (uint32_t i = 0; i < pio_per_round; ++i) {
    poke_port(pio_cursor, 0);
    if (++pio_cursor == 0x10000) {
      pio_cursor = 0;
      ++pio_sweeps;
    }
  }
}


void arch_round(void) { pio_round(); }

void arch_mmio_round(void) {
  /* Unclaimed addresses of the gap below the IOAPIC. */
  for (int i = 0; i < 64; ++i) {
    uint64_t a = GAP_START + (rnd() % (IOAPIC - GAP_START));
    if (!in_device_bar(a)) poke_mmio(a);
  }
}

/* ---- PCI: configuration mechanism #1 ------------------------------------ */

uint32_t arch_cfg_read(uint32_t dev, uint32_t reg) {
  outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
  return inl(0xcfc);
}
void arch_cfg_write(uint32_t dev, uint32_t reg, uint32_t v) {
  outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
  outl(0xcfc, v);
}

/* ---- the report ----------------------------------------------------------- */

void arch_start_details(void) {
  puts_(" pio/round=");
  putu(pio_per_round);
  puts_(" skipped (KVM's):");
  for (size_t i = 0; i < sizeof kvm_owned_ports / sizeof kvm_owned_ports[0]; ++i) {
    puts_(" ");
    putx(kvm_owned_ports[i].first);
    puts_("-");
    putx(kvm_owned_ports[i].last);
  }
}

void arch_round_details(void) {
  puts_(" pio=");
  putu(pio_accesses);
  puts_(" sweeps=");
  putu(pio_sweeps);
}

/* ---- main --------------------------------------------------------------- */

void hostile_main(const uint8_t* zero_page) {
  setup_idt();
  if (zero_page) read_boot_data(zero_page);
  hostile_run();
}
