// A SiFive-style PLIC (RISC-V Platform-Level Interrupt Controller), as a
// guest's "sifive,plic-1.0.0" / "riscv,plic0" driver programs it:
//
//   0x000000 + 4*s            priority of source s (source 0 does not exist)
//   0x001000 + 4*w            pending bits, sources 32w..32w+31 (read-only)
//   0x002000 + 0x80*c + 4*w   enable bits of context c
//   0x200000 + 0x1000*c       priority threshold of context c
//   0x200004 + 0x1000*c       claim (read) / complete (write) of context c
//
// Sources are level-triggered, as the PLIC gateway sees a wired device line:
// a raised line makes the source pending unless it is already claimed (in
// flight); a claim takes the highest-priority pending source enabled for the
// context (ties to the lowest id), clears its pending bit and marks it in
// flight; a completion ends the flight, and a line still high pends again.
// A context's output (its hart's external interrupt) is asserted while some
// pending source it enables has a priority above its threshold.
//
// Registers are 32 bits wide: naturally aligned 4-byte accesses reach them,
// anything else reads as zero and writes are ignored (the Linux driver uses
// readl/writel only).
//
// Thread safety: vCPU threads access the registers and devices raise lines
// from any thread; one mutex guards the state. The context output callbacks
// run with that mutex held (so two threads cannot deliver a context's
// set/clear out of order) and must not call back into the PLIC.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "devices/platform_device.h"
#include "devices/error.h"

namespace devices {

class Plic : public PlatformDevice, public std::enable_shared_from_this<Plic> {
 public:
  // Called when context `context`'s output line changes level.
  using ContextOutput = std::function<void(uint32_t context, bool level)>;

  static constexpr uint64_t kPriorityBase = 0x0;
  static constexpr uint64_t kPendingBase = 0x1000;
  static constexpr uint64_t kEnableBase = 0x2000;
  static constexpr uint64_t kEnableStride = 0x80;
  static constexpr uint64_t kContextBase = 0x20'0000;
  static constexpr uint64_t kContextStride = 0x1000;
  static constexpr uint64_t kThresholdOffset = 0x0;
  static constexpr uint64_t kClaimOffset = 0x4;
  static constexpr uint64_t kWindowSize = 0x400'0000;
  // The layout has room for sources 1..1023 and 15872 contexts.
  static constexpr uint32_t kMaxSources = 1023;
  static constexpr uint32_t kMaxContexts = 15872;
  // Priorities and thresholds hold 3 bits (0..7), as on QEMU's virt machine;
  // Linux writes 1 to enable a source and threshold 7 to mask a context.
  static constexpr uint32_t kPriorityMask = 0x7;

  // `num_sources` sources (ids 1..num_sources, as the tree's riscv,ndev says)
  // and `num_contexts` contexts; out-of-range counts are an error.
  static Result<std::shared_ptr<Plic>> create(uint32_t num_sources, uint32_t num_contexts, ContextOutput output);

  // Where the PLIC sits for a VM (a window of `size` bytes at `base`).
  void place(uint64_t base, uint64_t size) {
    base_ = base;
    size_ = size;
  }
  // Where each context's output goes (the VMM: a hart's external
  // interrupt). Set before the guest runs.
  void set_output(ContextOutput output);

  std::string_view name() const override { return "plic"; }
  std::vector<Window> windows() const override { return {{BusKind::kMmio, base_, size_, 0, "plic"}}; }
  // The interrupt controller node (phandle = the tree's interrupt parent).
  void describe(boot::PlatformDescription& platform) const override;

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  // A device's interrupt line. Sources outside 1..num_sources are ignored.
  void set_level(uint32_t source, bool level);
  // An IrqLine bound to `source`, to hand to a device model. It holds a
  // reference to the PLIC.
  IrqLine line(uint32_t source);

  uint32_t num_sources() const { return num_sources_; }
  uint32_t num_contexts() const { return num_contexts_; }
  // Current level of a context's output (false for a context that does not exist).
  bool output_level(uint32_t context) const;

 private:
  Plic(uint32_t num_sources, uint32_t num_contexts, ContextOutput output);

  uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  uint32_t claim(uint32_t context);
  void complete(uint32_t context, uint32_t source);
  bool is_set(const std::vector<uint32_t>& bits, uint32_t source) const;
  void assign(std::vector<uint32_t>& bits, uint32_t source, bool value);
  bool enabled(uint32_t context, uint32_t source) const;
  // Best deliverable source for a context, or 0.
  uint32_t best_source(uint32_t context) const;
  void update_outputs();

  uint32_t num_sources_;
  uint32_t num_contexts_;
  uint32_t words_;  // 32-bit words per source bitmap (covers source 0 too)
  ContextOutput output_;
  uint64_t base_ = 0x0c00'0000;
  uint64_t size_ = kWindowSize;

  mutable std::mutex mutex_;
  std::vector<uint32_t> priority_;   // index = source
  std::vector<uint32_t> pending_;    // bitmap
  std::vector<uint32_t> in_flight_;  // bitmap: claimed, not yet completed
  std::vector<uint32_t> level_;      // bitmap: the device line as last set
  std::vector<uint32_t> enable_;     // num_contexts * words_
  std::vector<uint32_t> threshold_;  // per context
  std::vector<bool> output_level_;   // per context, as last reported
};

}  // namespace devices
