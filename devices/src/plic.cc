#include "devices/plic.h"

#include <cstring>

#include "boot/fdt_writer.h"

namespace devices {

Result<std::shared_ptr<Plic>> Plic::create(uint32_t num_sources, uint32_t num_contexts, ContextOutput output) {
  if (num_sources < 1 || num_sources > kMaxSources)
    return fail(ErrorCode::kInvalidArgument, "PLIC: number of sources {} is outside 1..{}", num_sources,
                kMaxSources);
  if (num_contexts < 1 || num_contexts > kMaxContexts)
    return fail(ErrorCode::kInvalidArgument, "PLIC: number of contexts {} is outside 1..{}", num_contexts,
                kMaxContexts);
  return std::shared_ptr<Plic>(new Plic(num_sources, num_contexts, std::move(output)));
}

Plic::Plic(uint32_t num_sources, uint32_t num_contexts, ContextOutput output)
    : num_sources_(num_sources),
      num_contexts_(num_contexts),
      words_((num_sources + 1 + 31) / 32),
      output_(std::move(output)),
      priority_(num_sources + 1, 0),
      pending_(words_, 0),
      in_flight_(words_, 0),
      level_(words_, 0),
      enable_(static_cast<size_t>(num_contexts) * words_, 0),
      threshold_(num_contexts, 0),
      output_level_(num_contexts, false) {}

void Plic::read(uint64_t offset, std::span<std::byte> data) {
  std::memset(data.data(), 0, data.size());
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  {
    std::lock_guard lock(mutex_);
    value = read_register(offset);
  }
  std::memcpy(data.data(), &value, 4);  // the PLIC is little-endian, as are the hosts we run on
}

void Plic::write(uint64_t offset, std::span<const std::byte> data) {
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  std::memcpy(&value, data.data(), 4);
  std::lock_guard lock(mutex_);
  write_register(offset, value);
}

bool Plic::is_set(const std::vector<uint32_t>& bits, uint32_t source) const {
  return (bits[source / 32] >> (source % 32)) & 1;
}

void Plic::assign(std::vector<uint32_t>& bits, uint32_t source, bool value) {
  uint32_t mask = uint32_t{1} << (source % 32);
  if (value)
    bits[source / 32] |= mask;
  else
    bits[source / 32] &= ~mask;
}

bool Plic::enabled(uint32_t context, uint32_t source) const {
  return (enable_[static_cast<size_t>(context) * words_ + source / 32] >> (source % 32)) & 1;
}

uint32_t Plic::read_register(uint64_t offset) {
  if (offset < kPendingBase) {
    uint64_t source = (offset - kPriorityBase) / 4;
    return source >= 1 && source <= num_sources_ ? priority_[source] : 0;
  }
  if (offset < kEnableBase) {
    uint64_t word = (offset - kPendingBase) / 4;
    return word < words_ ? pending_[word] : 0;
  }
  if (offset < kContextBase) {
    uint64_t context = (offset - kEnableBase) / kEnableStride;
    uint64_t word = (offset - kEnableBase) % kEnableStride / 4;
    if (context >= num_contexts_ || word >= words_) return 0;
    return enable_[context * words_ + word];
  }
  if (offset < kWindowSize) {
    uint64_t context = (offset - kContextBase) / kContextStride;
    uint64_t reg = (offset - kContextBase) % kContextStride;
    if (context >= num_contexts_) return 0;
    if (reg == kThresholdOffset) return threshold_[context];
    if (reg == kClaimOffset) return claim(static_cast<uint32_t>(context));
  }
  return 0;
}

void Plic::write_register(uint64_t offset, uint32_t value) {
  if (offset < kPendingBase) {
    uint64_t source = (offset - kPriorityBase) / 4;
    if (source < 1 || source > num_sources_) return;
    priority_[source] = value & kPriorityMask;
  } else if (offset < kEnableBase) {
    return;  // pending bits are read-only: only the gateways set them
  } else if (offset < kContextBase) {
    uint64_t context = (offset - kEnableBase) / kEnableStride;
    uint64_t word = (offset - kEnableBase) % kEnableStride / 4;
    if (context >= num_contexts_ || word >= words_) return;
    uint32_t mask = ~uint32_t{0};
    if (word == 0) mask &= ~uint32_t{1};  // source 0 does not exist
    if (word == words_ - 1 && (num_sources_ + 1) % 32 != 0)
      mask &= (uint32_t{1} << ((num_sources_ + 1) % 32)) - 1;  // bits past the last source are hardwired to 0
    enable_[context * words_ + word] = value & mask;
  } else if (offset < kWindowSize) {
    uint64_t context = (offset - kContextBase) / kContextStride;
    uint64_t reg = (offset - kContextBase) % kContextStride;
    if (context >= num_contexts_) return;
    if (reg == kThresholdOffset)
      threshold_[context] = value & kPriorityMask;
    else if (reg == kClaimOffset)
      complete(static_cast<uint32_t>(context), value);
    else
      return;
  } else {
    return;
  }
  update_outputs();
}

uint32_t Plic::best_source(uint32_t context) const {
  uint32_t best = 0;
  uint32_t best_priority = threshold_[context];
  for (uint32_t word = 0; word < words_; ++word) {
    uint32_t candidates = pending_[word] & enable_[static_cast<size_t>(context) * words_ + word];
    while (candidates != 0) {
      uint32_t bit = static_cast<uint32_t>(__builtin_ctz(candidates));
      candidates &= candidates - 1;
      uint32_t source = word * 32 + bit;
      // Strictly greater: ties keep the lower id, and priority 0 never
      // exceeds a threshold, so it means "never interrupt".
      if (priority_[source] > best_priority) {
        best = source;
        best_priority = priority_[source];
      }
    }
  }
  return best;
}

uint32_t Plic::claim(uint32_t context) {
  uint32_t source = best_source(context);
  if (source != 0) {
    assign(pending_, source, false);
    assign(in_flight_, source, true);
    update_outputs();
  }
  return source;
}

void Plic::complete(uint32_t context, uint32_t source) {
  // The specification ignores completions of a source the context does not
  // enable (Linux's driver enables a masked source around its completion
  // for that reason).
  if (source < 1 || source > num_sources_ || !enabled(context, source)) return;
  if (!is_set(in_flight_, source)) return;
  assign(in_flight_, source, false);
  // The gateway forwards a line still held high as a new request.
  if (is_set(level_, source)) assign(pending_, source, true);
}

void Plic::set_level(uint32_t source, bool level) {
  if (source < 1 || source > num_sources_) return;
  std::lock_guard lock(mutex_);
  assign(level_, source, level);
  // A level source pends while its line is high and it is not in flight; a
  // line dropped before the claim withdraws the request, as the device has
  // nothing left to service.
  if (level && !is_set(in_flight_, source))
    assign(pending_, source, true);
  else if (!level)
    assign(pending_, source, false);
  update_outputs();
}

IrqLine Plic::line(uint32_t source) {
  return [self = shared_from_this(), source](bool level) {
    self->set_level(source, level);
  };
}

bool Plic::output_level(uint32_t context) const {
  std::lock_guard lock(mutex_);
  return context < num_contexts_ && output_level_[context];
}

void Plic::update_outputs() {
  for (uint32_t context = 0; context < num_contexts_; ++context) {
    bool level = best_source(context) != 0;
    if (level == output_level_[context]) continue;
    output_level_[context] = level;
    if (output_) output_(context, level);
  }
}

void Plic::set_output(ContextOutput output) {
  std::lock_guard lock(mutex_);
  output_ = std::move(output);
}

void Plic::describe(boot::PlatformDescription& platform) const {
  platform.dt_nodes.push_back([base = base_, size = size_, sources = num_sources_](boot::FdtWriter& w,
                                                                                  const boot::DtIrqContext& irq) {
    // Context i is hart i's S-mode external interrupt (IRQ 9 of its cpu-intc).
    constexpr uint32_t kSupervisorExternalIrq = 9;
    std::vector<uint32_t> contexts;
    for (uint32_t phandle : irq.cpu_intc_phandles) {
      contexts.push_back(phandle);
      contexts.push_back(kSupervisorExternalIrq);
    }
    w.begin_node(fmt::format("interrupt-controller@{:x}", base));
    w.property_strings("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
    w.property_u64s("reg", {base, size});
    w.property_u32("#interrupt-cells", 1);
    w.property_u32("#address-cells", 0);
    w.property_empty("interrupt-controller");
    w.property_u32("riscv,ndev", sources);
    w.property_cells("interrupts-extended", contexts);
    w.property_u32("phandle", irq.interrupt_parent);
    w.end_node();
  });
}

}  // namespace devices
