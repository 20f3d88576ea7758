// Pieces every virtio device model shares: activating its queues and moving
// bytes between host memory and a chain's scattered guest buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio::detail {

// Activates queues 0..count-1 of `activation` with the negotiated ring
// features; every one must have been enabled by the driver.
bool activate_queues(const Activation& activation, uint16_t count, std::string& why);

// Serves a config-space read from the device's config bytes: whatever lies
// past their end reads as zero (a driver may probe beyond what it knows).
void read_config_bytes(std::span<const std::byte> config, uint32_t offset, std::span<std::byte> data);

// What a device did with one chain: the bytes it wrote for used.len, or why
// the chain is broken beyond answering (the device then stops).
using ChainOutcome = std::expected<uint32_t, std::string>;

// The notify loop every request/response device runs: pops up to `budget`
// chains (a guest that keeps refilling the ring cannot hold the I/O thread
// forever; it notifies again), hands each to `handle` and pushes it used,
// then interrupts if the ring asks for it. A broken ring is reported as
// "<device>: queue <index>: <error>" and a broken chain as
// "<device>: <reason>". Returns false after either (the device must fail);
// the caller holds its own lock throughout.
bool serve_queue(Virtqueue& queue, uint16_t index, TransportHooks& hooks, std::string_view device, uint32_t budget,
                 const std::function<ChainOutcome(const Chain&)>& handle);

// Copies min(src.size(), room) bytes into the buffers starting `offset` bytes
// in; returns how many were copied.
uint64_t copy_to_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<const std::byte> src);
// Copies out of the buffers starting `offset` bytes in; returns how many.
uint64_t copy_from_buffers(std::span<const Buffer> buffers, uint64_t offset, std::span<std::byte> dst);
// The host spans covering [offset, offset+len) of the buffers (clipped to what exists).
std::vector<std::span<std::byte>> slice_buffers(std::span<const Buffer> buffers, uint64_t offset, uint64_t len);

}  // namespace devices::virtio::detail
