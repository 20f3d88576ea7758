// virtio-9p with the real 9P server over a temp directory, messages passed
// through a virtqueue in fake guest memory as the Linux driver would.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../devices/virtio/virtio_test_util.h"
#include "backends/p9_server.h"
#include "devices/virtio/virtio_p9.h"
#include "p9_test_util.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using devices::virtio::VirtioP9;
using devices::virtio::test_util::DeviceHarness;
using p9_test::Msg;
using p9::Type;

class VirtioP9ServerTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kReq = DeviceHarness::kData, kReply = kReq + 0x10000;

  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-p9dev-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    std::ofstream(dir / "hello") << "hi from the host";
    auto s = P9Server::open({.root = dir.string()});
    ASSERT_TRUE(s) << s.error().message;
    dev = std::make_unique<VirtioP9>(std::move(*s), "share");
    std::string why;
    ASSERT_TRUE(h.activate(*dev, why)) << why;
  }
  void TearDown() override { fs::remove_all(dir); }

  // One message through the ring: the request split in two readable
  // buffers, the reply into two writable ones. Returns the reply bytes.
  std::vector<std::byte> rpc(Type t, const Msg& m) {
    auto bytes = m.build(t, 7);
    EXPECT_TRUE(h.mem.write(loader::GuestAddress(kReq), bytes));
    const uint32_t half = static_cast<uint32_t>(bytes.size() / 2);
    auto& q = h.drivers[0];
    const uint16_t used_before = q.used_idx();
    q.add_chain({{kReq, half, false},
                 {kReq + half, static_cast<uint32_t>(bytes.size()) - half, false},
                 {kReply, 9, true},
                 {kReply + 9, 0x4000, true}});
    dev->notify(0);
    EXPECT_EQ(q.used_idx(), static_cast<uint16_t>(used_before + 1));
    const uint32_t len = q.used_elem(used_before).second;
    std::vector<std::byte> out(len);
    EXPECT_TRUE(h.mem.read(loader::GuestAddress(kReply), out));
    return out;
  }
  static uint32_t u32(const std::vector<std::byte>& b, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(b.at(at + i));
    return v;
  }

  DeviceHarness h{1};
  fs::path dir;
  std::unique_ptr<VirtioP9> dev;
};

TEST_F(VirtioP9ServerTest, MountSequenceAndReadThroughTheRing) {
  auto v = rpc(Type::kTversion, Msg().u32(8192).str("9P2000.L"));
  ASSERT_GE(v.size(), 11u);
  EXPECT_EQ(static_cast<uint8_t>(v[4]), 101);
  EXPECT_EQ(u32(v, 0), v.size());
  auto a = rpc(Type::kTattach, Msg().u32(0).u32(p9::kNoFid).str("root").str("").u32(0));
  ASSERT_EQ(static_cast<uint8_t>(a[4]), 105);
  auto w = rpc(Type::kTwalk, Msg().u32(0).u32(1).u16(1).str("hello"));
  ASSERT_EQ(static_cast<uint8_t>(w[4]), 111);
  auto o = rpc(Type::kTlopen, Msg().u32(1).u32(0));
  ASSERT_EQ(static_cast<uint8_t>(o[4]), 13);
  auto r = rpc(Type::kTread, Msg().u32(1).u64(0).u32(1000));
  ASSERT_EQ(static_cast<uint8_t>(r[4]), 117);
  ASSERT_EQ(u32(r, 7), 16u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data()) + 11, 16), "hi from the host");
  // A garbage message gets an Rlerror through the ring, the device keeps going.
  auto bad = rpc(Type::kTwalk, Msg().u32(0).u32(2).u16(40));
  ASSERT_EQ(static_cast<uint8_t>(bad[4]), 7);
  EXPECT_TRUE(h.hooks.errors.empty());
}

}  // namespace
}  // namespace backends
