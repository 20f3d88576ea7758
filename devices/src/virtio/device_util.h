// Pieces every virtio device model shares: activating its queues and moving
// bytes between host memory and a chain's scattered guest buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio::detail {

// Activates queues 0..count-1 of `activation` with the negotiated ring
// features; every one must have been enabled by the driver.
bool activate_queues(const Activation& activation, uint16_t count, std::string& why);

// Copies min(src.size(), room) bytes into the buffers starting `offset` bytes
// in; returns how many were copied.
uint64_t copy_to_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<const std::byte> src);
// Copies out of the buffers starting `offset` bytes in; returns how many.
uint64_t copy_from_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<std::byte> dst);
// The host spans covering [offset, offset+len) of the buffers (clipped to what exists).
std::vector<std::span<std::byte>> slice_buffers(std::span<const Buffer> buffers, uint64_t offset, uint64_t len);

}  // namespace devices::virtio::detail
