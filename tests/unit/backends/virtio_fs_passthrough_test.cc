// The device model and the FUSE server together: a request written into
// guest memory goes through a real virtqueue, and the reply the guest reads
// back comes from the host directory.
#include <linux/fuse.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "backends/fuse_server.h"
#include "devices/virtio/virtio_fs.h"
#include "unit/devices/virtio/virtio_test_util.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using devices::virtio::VirtioFs;
using devices::virtio::test_util::DeviceHarness;

TEST(VirtioFsPassthrough, ReadThroughVirtqueue) {
  char tmpl[] = "/tmp/minivmm-vfs-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "hello") << "from the host";
  auto server = FuseServer::open(dir.string(), true);
  ASSERT_TRUE(server);
  std::shared_ptr<FuseServer> shared = std::move(*server);
  VirtioFs device("share", shared);
  DeviceHarness h(2);
  std::string why;
  ASSERT_TRUE(h.activate(device, why)) << why;
  auto& drv = h.drivers[1];
  const uint64_t req = DeviceHarness::kData, reply = DeviceHarness::kData + 0x1000;

  auto send = [&](uint32_t opcode, uint64_t nodeid, const void* args, uint32_t args_len) {
    fuse_in_header ih{};
    ih.len = sizeof(ih) + args_len;
    ih.opcode = opcode;
    ih.unique = 7;
    ih.nodeid = nodeid;
    std::memcpy(h.mem.host_span(loader::GuestAddress(req), sizeof(ih))->data(), &ih, sizeof(ih));
    std::memcpy(h.mem.host_span(loader::GuestAddress(req + sizeof(ih)), args_len)->data(), args, args_len);
    // Header and arguments in separate descriptors, as the Linux driver does.
    drv.add_chain({{req, sizeof(ih), false},
                   {req + sizeof(ih), args_len, false},
                   {reply, 16, true},
                   {reply + 16, 4096, true}});
    device.notify(1);
    fuse_out_header oh{};
    std::memcpy(&oh, h.mem.host_span(loader::GuestAddress(reply), sizeof(oh))->data(), sizeof(oh));
    return oh;
  };

  const char name[] = "hello";
  fuse_out_header oh = send(FUSE_LOOKUP, FUSE_ROOT_ID, name, sizeof(name));
  ASSERT_EQ(oh.error, 0);
  EXPECT_EQ(oh.unique, 7u);
  fuse_entry_out e;
  std::memcpy(&e, h.mem.host_span(loader::GuestAddress(reply + 16), sizeof(e))->data(), sizeof(e));
  EXPECT_EQ(e.attr.size, 13u);
  fuse_open_in oi{};
  oh = send(FUSE_OPEN, e.nodeid, &oi, sizeof(oi));
  ASSERT_EQ(oh.error, 0);
  fuse_open_out oo;
  std::memcpy(&oo, h.mem.host_span(loader::GuestAddress(reply + 16), sizeof(oo))->data(), sizeof(oo));
  fuse_read_in ri{};
  ri.fh = oo.fh;
  ri.size = 4096;
  oh = send(FUSE_READ, e.nodeid, &ri, sizeof(ri));
  ASSERT_EQ(oh.error, 0);
  EXPECT_EQ(oh.len, 16u + 13u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(h.mem.host_span(loader::GuestAddress(reply + 16), 13)->data()),
                        13),
            "from the host");
  EXPECT_EQ(drv.used_idx(), 3);
  EXPECT_EQ(drv.used_elem(2).second, 29u);
  EXPECT_TRUE(h.hooks.errors.empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace backends
