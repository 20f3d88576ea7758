#include "vmm/exec_command.h"

#include <gtest/gtest.h>

#include <string>

namespace vmm::exec {
namespace {

TEST(GuestReport, ReadsTheStatusLineAmongKernelOutput) {
  GuestReport r;
  r.feed("[    1.0] virtio_console ...\r\nsome output\nminivmm-exec: sta");
  EXPECT_FALSE(r.status().has_value());  // not until the line ends
  r.feed("tus 7\r\n");
  ASSERT_TRUE(r.status().has_value());
  EXPECT_EQ(*r.status(), 7);
  EXPECT_FALSE(r.error().has_value());
}

TEST(GuestReport, ReadsErrorsAndMissingConfigs) {
  GuestReport r;
  r.feed("\nminivmm-exec: missing CONFIG_FUSE_FS CONFIG_VIRTIO_FS: the kernel has no virtio-fs\n");
  ASSERT_TRUE(r.missing().has_value());
  EXPECT_EQ(*r.missing(), "CONFIG_FUSE_FS CONFIG_VIRTIO_FS: the kernel has no virtio-fs");
  r.feed("minivmm-exec: error cannot chroot to /newroot: EPERM\n");
  EXPECT_EQ(r.error().value(), "cannot chroot to /newroot: EPERM");
  EXPECT_FALSE(r.status().has_value());
}

TEST(GuestReport, IgnoresStatusesOutOfRangeOrMalformed) {
  GuestReport r;
  r.feed("minivmm-exec: status 256\nminivmm-exec: status -1\nminivmm-exec: status 3x\nminivmm-exec: status\n");
  EXPECT_FALSE(r.status().has_value());
  r.feed("minivmm-exec: status 255\n");
  EXPECT_EQ(r.status().value(), 255);
}

TEST(GuestReport, KeepsABoundedTailAndBoundedLines) {
  GuestReport r;
  r.feed(std::string(100000, 'x'));  // one endless line
  r.feed("\nminivmm-exec: status 3\n");
  EXPECT_EQ(r.status().value(), 3);
  EXPECT_EQ(r.tail().size(), GuestReport::kTailBytes);
}

TEST(KernelRelease, IsTheWordAfterTheBanner) {
  EXPECT_EQ(kernel_release("Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 ...) #1 SMP"),
            "6.1.0-18-amd64");
  EXPECT_EQ(kernel_release("6.12.0 (builder@host) #1"), "");
  EXPECT_EQ(kernel_release(""), "");
}

}  // namespace
}  // namespace vmm::exec

namespace vmm::exec {
namespace {

// Host input is held back until the guest init says the command's stdin is
// set up; a "ready" inside other text or split across feeds still counts.
TEST(GuestReport, ReadyOnlyOnceTheInitSaysSo) {
  GuestReport r;
  r.feed("[    0.1] booting\nminivmm-exec: rea");
  EXPECT_FALSE(r.ready());
  r.feed("dy \n");
  EXPECT_TRUE(r.ready());
  GuestReport other;
  other.feed("not minivmm-exec:ready\n");
  EXPECT_FALSE(other.ready());
}

}  // namespace
}  // namespace vmm::exec
