#include "devices/virtio/virtio_rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "devices/virtio/virtqueue.h"
#include "device_util.h"

namespace devices::virtio {

VirtioRng::VirtioRng(EntropySource source)
    : source_(source ? std::move(source) : EntropySource(&VirtioRng::getrandom_source)) {}

size_t VirtioRng::getrandom_source(std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    // GRND_NONBLOCK: an I/O thread must never sleep on an uninitialised pool;
    // the guest then gets fewer bytes (used.len says how many).
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, GRND_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

uint64_t VirtioRng::device_features() const { return kFVersion1 | kFIndirectDesc | kFEventIdx; }

void VirtioRng::read_config(uint32_t /*offset*/, std::span<std::byte> data) {
  std::fill(data.begin(), data.end(), std::byte{0});
}

bool VirtioRng::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 1, why)) return false;
  queue_ = activation.queues[0];
  hooks_ = activation.hooks;
  active_ = true;
  failed_ = false;
  return true;
}

void VirtioRng::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_ || queue != 0) return;
  const bool ok = detail::serve_queue(
      *queue_, 0, *hooks_, "virtio-rng", queue_->size(), [this](const Chain& chain) -> detail::ChainOutcome {
        uint32_t written = 0;
        for (const Buffer& b : chain.writable) {
          const uint32_t want = std::min(b.len, kMaxBytesPerChain - written);
          if (want == 0) break;
          const size_t got = std::min<size_t>(source_(b.host.first(want)), want);
          written += static_cast<uint32_t>(got);
          if (got < want) break;
        }
        return written;
      });
  if (!ok) failed_ = true;
}

void VirtioRng::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  failed_ = false;
  queue_ = nullptr;
  hooks_ = nullptr;
}

}  // namespace devices::virtio
