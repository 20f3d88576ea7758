/* The hostile test guest (issue 13 item 4), split in two: hostile_core.c is
 * the attack every architecture shares (the PRNG, random MMIO, the virtio-pci
 * and virtio-mmio attacks, the round loop and its report); each
 * hostile_<arch>.c is how that architecture is entered and stopped (entry,
 * exceptions), talks (its UART), reaches PCI configuration space, and what
 * else of its platform it attacks (x86's I/O ports, riscv64's SBI calls, the
 * arch's own MMIO windows). This header is the seam between the two. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifndef HOSTILE_SEED
#define HOSTILE_SEED 0x9e3779b97f4a7c15ull
#endif

/* ---- memory-mapped I/O -------------------------------------------------- */

#if defined(__aarch64__)
/* Single-register loads and stores with a plain base register only: a
 * trapped access with writeback or a pair (ldp/stp) has no valid syndrome
 * (ESR_EL2.ISV = 0) and KVM cannot hand it to the VMM at all, so volatile
 * pointers the compiler may fold into such forms are not enough here. */
static inline void w8(uint64_t a, uint8_t v) { __asm__ volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void w16(uint64_t a, uint16_t v) { __asm__ volatile("strh %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void w32(uint64_t a, uint32_t v) { __asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void w64(uint64_t a, uint64_t v) { __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline uint8_t r8(uint64_t a) {
  uint32_t v;
  __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return (uint8_t)v;
}
static inline uint16_t r16(uint64_t a) {
  uint32_t v;
  __asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return (uint16_t)v;
}
static inline uint32_t r32(uint64_t a) {
  uint32_t v;
  __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static inline uint64_t r64(uint64_t a) {
  uint64_t v;
  __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}
#else
#define MMIO(type, a) (*(volatile type*)(uintptr_t)(a))
static inline void w8(uint64_t a, uint8_t v) { MMIO(uint8_t, a) = v; }
static inline void w16(uint64_t a, uint16_t v) { MMIO(uint16_t, a) = v; }
static inline void w32(uint64_t a, uint32_t v) { MMIO(uint32_t, a) = v; }
static inline void w64(uint64_t a, uint64_t v) { MMIO(uint64_t, a) = v; }
static inline uint8_t r8(uint64_t a) { return MMIO(uint8_t, a); }
static inline uint16_t r16(uint64_t a) { return MMIO(uint16_t, a); }
static inline uint32_t r32(uint64_t a) { return MMIO(uint32_t, a); }
static inline uint64_t r64(uint64_t a) { return MMIO(uint64_t, a); }
#endif

/* ---- what the arch file tells the core ---------------------------------- */

/* The platform as minivmm lays it out for this arch (boot/include/boot/
 * device_map.h and memory_map_<arch>.h), and where this guest keeps its
 * rings. The arch file fills it before hostile_run(). */
struct hostile_platform {
  uint64_t ram_end;             /* from the boot data (e820, the DTB's /memory) */
  uint64_t ecam_base, ecam_size;
  uint64_t vmmio_base, vmmio_stride;
  uint32_t vmmio_slots;
  uint64_t bar_base, bar_stride; /* where this guest puts BAR 4 of each function */
  uint64_t msix_table_offset;   /* in the BAR: left alone (hostile_x86_64.c says why) */
  uint64_t scratch, scratch_end; /* RAM this guest lets devices write */
  uint64_t foreign_mmio;        /* a device the VMM does not own, as a DMA address (LAPIC, GIC, ...) */
  uint64_t dma_gap, dma_gap_mask; /* unclaimed MMIO, as DMA addresses: dma_gap + (rnd & mask) */
  int unaligned_mmio;           /* 0: a misaligned MMIO access faults in the guest itself */
};
extern struct hostile_platform plat;

/* Provided by hostile_<arch>.c. */
void arch_console_reset(void);
/* The Image entries (aarch64, riscv64) call it when the guest was not loaded
 * at the start of RAM, where it is linked to run. */
void hostile_misplaced(uint64_t at);
void arch_putc(char c);
void arch_barrier(void);
void arch_relax(void);
uint32_t arch_cfg_read(uint32_t dev, uint32_t reg);
void arch_cfg_write(uint32_t dev, uint32_t reg, uint32_t v);
void arch_round(void);         /* the arch's own attacks, first in each round */
void arch_mmio_round(void);    /* the arch's other MMIO windows, after the shared ones */
void arch_start_details(void); /* the rest of the "HOSTILE start" line */
void arch_round_details(void); /* the arch's counters on the "HOSTILE round" line */
int arch_knob(const char* word); /* a hostile.* word of the command line only this arch knows */

/* Provided by hostile_core.c. */
void hostile_run(void) __attribute__((noreturn));
uint64_t rnd(void);
uint32_t below(uint32_t n);
int chance(uint32_t one_in);
void hostile_seed(uint64_t seed);
uint64_t hostile_seed_value(void);
void puts_(const char* s);
void putu(uint64_t v);
void putx(uint64_t v);
void poke_mmio(uint64_t a);
int in_device_bar(uint64_t a);
uint64_t scratch_addr(void);
uint64_t bad_addr(void);
void hostile_cmdline(const char* cmd, size_t max);
int starts(const char* s, const char* p);
uint64_t parse_num(const char* s);
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
extern uint64_t mmio_accesses;

/* Provided by hostile_fdt.c (aarch64, riscv64): /memory's end and
 * /chosen/bootargs from the device tree at `dtb`, bounded; 0 when the blob
 * is not a device tree. */
int fdt_read(uint64_t dtb, uint64_t* ram_end, const char** bootargs, size_t* bootargs_len);
