// Fallback for <linux/blkdev.h>, found only after every other include
// directory (-idirafter): trixie's liburing (the riscv64 sysroot) includes it,
// but the cross compilers carry bookworm's 6.1 kernel headers, which predate
// it (6.5). liburing needs just this ioctl number for its inline discard helper.
#pragma once

#include <linux/ioctl.h>

#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD _IO(0x12, 0)
#endif
