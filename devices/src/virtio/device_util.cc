#include "device_util.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace devices::virtio::detail {

bool activate_queues(const Activation& activation, uint16_t count, std::string& why) {
  if (activation.memory == nullptr || activation.hooks == nullptr) {
    why = "activated without guest memory or transport";
    return false;
  }
  if (activation.queues.size() < count) {
    why = fmt::format("needs {} queues, the transport gave {}", count, activation.queues.size());
    return false;
  }
  const bool event_idx = (activation.features & kFEventIdx) != 0;
  const bool indirect = (activation.features & kFIndirectDesc) != 0;
  for (uint16_t i = 0; i < count; ++i) {
    Virtqueue* q = activation.queues[i];
    if (q == nullptr) {
      why = fmt::format("queue {} was not enabled by the driver", i);
      return false;
    }
    if (auto err = q->activate(*activation.memory, event_idx, indirect)) {
      why = fmt::format("queue {}: {}", i, *err);
      return false;
    }
  }
  return true;
}

void read_config_bytes(std::span<const std::byte> config, uint32_t offset, std::span<std::byte> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    data[i] = at < config.size() ? config[at] : std::byte{0};
  }
}

bool serve_queue(Virtqueue& queue, uint16_t index, TransportHooks& hooks, std::string_view device, uint32_t budget,
                 const std::function<ChainOutcome(const Chain&)>& handle) {
  bool ok = true;
  bool pushed = false;
  for (; budget > 0; --budget) {
    std::string error;
    auto chain = queue.pop(error);
    if (!chain) {
      if (!error.empty()) {
        ok = false;
        hooks.device_error(fmt::format("{}: queue {}: {}", device, index, error));
      }
      break;
    }
    const ChainOutcome written = handle(*chain);
    if (!written) {
      ok = false;
      hooks.device_error(fmt::format("{}: {}", device, written.error()));
      break;
    }
    queue.push_used(chain->head, *written);
    pushed = true;
  }
  if (pushed && queue.needs_interrupt()) hooks.signal_used(index);
  return ok;
}

uint64_t copy_to_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<const std::byte> src) {
  uint64_t done = 0;
  for (const Buffer& b : buffers) {
    if (done == src.size()) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(b.len - offset, src.size() - done);
    std::memcpy(b.host.data() + offset, src.data() + done, n);
    done += n;
    offset = 0;
  }
  return done;
}

uint64_t copy_from_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<std::byte> dst) {
  uint64_t done = 0;
  for (const Buffer& b : buffers) {
    if (done == dst.size()) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(b.len - offset, dst.size() - done);
    std::memcpy(dst.data() + done, b.host.data() + offset, n);
    done += n;
    offset = 0;
  }
  return done;
}

std::vector<std::span<std::byte>> slice_buffers(std::span<const Buffer> buffers, uint64_t offset, uint64_t len) {
  std::vector<std::span<std::byte>> out;
  for (const Buffer& b : buffers) {
    if (len == 0) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(b.len - offset, len);
    out.push_back(b.host.subspan(offset, n));
    len -= n;
    offset = 0;
  }
  return out;
}

}  // namespace devices::virtio::detail
