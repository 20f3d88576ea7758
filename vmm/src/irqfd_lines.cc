#include "vmm/irqfd_lines.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>

#include "vmm/io_thread.h"
#include "vmm/xioctl.h"

namespace vmm {

namespace {

struct Line {
  uint32_t gsi = 0;
  Fd trigger;
  Fd resample;
  std::function<void(bool)> fallback;
  std::atomic<bool> level{false};
  std::atomic<bool> irqfd{false};

  void raise() const {
    uint64_t one = 1;
    // An eventfd write fails only when its counter would overflow, which a
    // line raised once per resample never reaches.
    (void)!::write(trigger.get(), &one, sizeof one);
  }
};

Result<Fd> make_eventfd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return fail_errno(errno, "eventfd for an irqfd");
  return Fd(fd);
}

}  // namespace

struct IrqfdLines::Impl {
  Vm* vm = nullptr;
  std::vector<std::shared_ptr<Line>> lines;
  IoThread thread{"irq-resample", seccomp::Role::kIrqResample};
};

bool IrqfdLines::supported(const Vm& vm) {
  return vm.check_extension(KVM_CAP_IRQFD) > 0 && vm.check_extension(KVM_CAP_IRQFD_RESAMPLE) > 0;
}

IrqfdLines::IrqfdLines(Vm& vm) : impl_(std::make_unique<Impl>()) { impl_->vm = &vm; }

IrqfdLines::~IrqfdLines() { stop(); }

Result<devices::IrqLine> IrqfdLines::line(uint32_t gsi, std::function<void(bool)> fallback) {
  auto l = std::make_shared<Line>();
  l->gsi = gsi;
  l->fallback = std::move(fallback);
  auto trigger = make_eventfd();
  if (!trigger) return std::unexpected(trigger.error());
  auto resample = make_eventfd();
  if (!resample) return std::unexpected(resample.error());
  l->trigger = std::move(*trigger);
  l->resample = std::move(*resample);
  impl_->lines.push_back(l);
  return [l](bool level) {
    l->level.store(level, std::memory_order_release);
    if (!l->irqfd.load(std::memory_order_acquire)) {
      if (l->fallback) l->fallback(level);
      return;
    }
    // Lowering is KVM's job (at the guest's EOI); raising is ours.
    if (level) l->raise();
  };
}

Result<void> IrqfdLines::activate() {
  for (auto& l : impl_->lines) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<uint32_t>(l->trigger.get());
    irqfd.gsi = l->gsi;
    irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
    irqfd.resamplefd = static_cast<uint32_t>(l->resample.get());
    if (xioctl(impl_->vm->fd(), KVM_IRQFD, &irqfd) < 0)
      return fail_errno(errno, fmt::format("KVM_IRQFD (resample) on line {}", l->gsi));
    auto r = impl_->thread.watch_eventfd(l->resample.get(), [line = l.get()](uint64_t) {
      if (line->level.load(std::memory_order_acquire)) line->raise();
    });
    if (!r) return std::unexpected(r.error());
  }
  for (auto& l : impl_->lines) {
    // Whatever the fallback left asserted is KVM_IRQ_LINE state the irqfd
    // does not know about: lower it there and let the irqfd take over.
    const bool level = l->level.load(std::memory_order_acquire);
    if (level && l->fallback) l->fallback(false);
    l->irqfd.store(true, std::memory_order_release);
    if (level || l->level.load(std::memory_order_acquire)) l->raise();
  }
  impl_->thread.start();
  return {};
}

void IrqfdLines::stop() {
  if (impl_) impl_->thread.stop();
}

size_t IrqfdLines::count() const { return impl_->lines.size(); }

std::string activate_irqfd_lines(IrqfdLines* lines) {
  if (!lines) return "level interrupt lines on KVM_IRQ_LINE (no KVM_CAP_IRQFD_RESAMPLE)\n";
  if (auto r = lines->activate(); !r) return fmt::format("level interrupt lines on KVM_IRQ_LINE: {}\n", r.error().message);
  return fmt::format("{} level interrupt lines on irqfds with resample\n", lines->count());
}

}  // namespace vmm
