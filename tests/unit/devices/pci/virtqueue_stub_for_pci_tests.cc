// TEMPORARY, delete at the merge with the virtio branch: the two non-inline
// Virtqueue members the virtio-pci transport calls, so devices_tests links
// while devices/src/virtio/virtqueue.cc is written on another branch. Once
// that file is in the library this stub duplicates its symbols.
#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

Virtqueue::Virtqueue(uint16_t max_size) : max_size_(max_size) {}

void Virtqueue::reset() {
  size_ = max_size_;
  desc_addr_ = avail_addr_ = used_addr_ = 0;
  ready_ = false;
  memory_ = nullptr;
  event_idx_ = indirect_ = broken_ = false;
  last_avail_ = used_idx_ = signalled_used_ = 0;
}

}  // namespace devices::virtio
