// ioctl with EINTR retry, for the set-up ioctls (KVM_RUN handles EINTR itself).
#pragma once

#include <sys/ioctl.h>

#include <cerrno>

namespace vmm {

template <class Arg>
int xioctl(int fd, unsigned long req, Arg arg) {
  int r;
  do {
    r = ::ioctl(fd, req, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace vmm
