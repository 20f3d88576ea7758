/*
 * blkbench: the block I/O figures of scripts/bench_virtio.sh, run inside the
 * guest by bench_blk_init.sh (built static by the host's gcc and added to the
 * bench disk image as /bin/blkbench). Busybox has no fio and its dd cannot
 * time anything finer than a second; this does one thing at a time,
 * synchronously (queue depth 1), with O_DIRECT so the guest's page cache is
 * out of the way and every byte crosses the virtio-blk device:
 *
 *   blkbench seq-read  DEV MIB         MIB MiB from offset 0 in 1 MiB reads
 *   blkbench seq-write DEV MIB         MIB MiB from offset 0 in 1 MiB writes, then fsync
 *   blkbench rand-read DEV OPS         OPS 4 KiB reads at 4 KiB-aligned offsets
 *                                      spread over the whole device, from a
 *                                      fixed-seed generator (the same offsets
 *                                      on every run)
 *
 * Prints one line, e.g.
 *   BENCH seq-read MBps=123.4 bytes=268435456 secs=2.174
 *   BENCH rand-read IOPS=2345 ops=4000 secs=1.706
 * (MBps are 10^6 bytes a second) and exits 0, or prints
 *   BENCH-FAIL <test>: <reason>
 * and exits 1. The time is CLOCK_MONOTONIC around the I/O loop alone (the
 * device is opened and the buffer filled before the clock starts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RAND_BLOCK 4096u
#define ALIGN 4096u

static const char *test = "?";

static void die(const char *fmt, const char *arg) {
  printf("BENCH-FAIL %s: ", test);
  printf(fmt, arg);
  printf(": %s\n", strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long parse_count(const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0) {
    errno = EINVAL;
    die("bad count '%s' (want a whole number above 0)", s);
  }
  return v;
}

static int open_dev(const char *dev, int flags) {
  int fd = open(dev, flags | O_DIRECT | O_CLOEXEC);
  if (fd < 0) die("open %s with O_DIRECT", dev);
  return fd;
}

static void *aligned_buffer(size_t size) {
  void *buf;
  int err = posix_memalign(&buf, ALIGN, size);
  if (err != 0) {
    errno = err;
    die("posix_memalign %s", "");
  }
  /* A pattern, not zeros: no layer below may take a shortcut on zero pages. */
  for (size_t i = 0; i < size; i++) ((unsigned char *)buf)[i] = (unsigned char)(i * 131 + 7);
  return buf;
}

/* The full transfer or an error: a short transfer on a block device is one. */
static void full_io(int fd, int write_, void *buf, size_t len, off_t off, const char *dev) {
  ssize_t n = write_ ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
  if (n < 0) die(write_ ? "pwrite %s" : "pread %s", dev);
  if ((size_t)n != len) {
    errno = EIO;
    die("short transfer on %s", dev);
  }
}

static void seq(const char *dev, unsigned long mib, int write_) {
  int fd = open_dev(dev, write_ ? O_WRONLY : O_RDONLY);
  void *buf = aligned_buffer(SEQ_BLOCK);
  double start = now();
  for (unsigned long i = 0; i < mib; i++) full_io(fd, write_, buf, SEQ_BLOCK, (off_t)i * SEQ_BLOCK, dev);
  /* O_DIRECT bypasses the page cache, but a volatile write cache below may
   * still hold the data: the write is done when it is on stable storage. */
  if (write_ && fsync(fd) != 0) die("fsync %s", dev);
  double secs = now() - start;
  double bytes = (double)mib * SEQ_BLOCK;
  printf("BENCH %s MBps=%.1f bytes=%.0f secs=%.3f\n", test, bytes / secs / 1e6, bytes, secs);
  close(fd);
  free(buf);
}

/* xorshift64*: fast, and the same sequence everywhere for the same seed. */
static uint64_t next_random(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static void rand_read(const char *dev, unsigned long ops) {
  int fd = open_dev(dev, O_RDONLY);
  /* SEEK_END gives the size of a block device and of a regular file alike. */
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) die("lseek %s", dev);
  uint64_t blocks = (uint64_t)size / RAND_BLOCK;
  if (blocks == 0) {
    errno = EINVAL;
    die("%s is smaller than 4 KiB", dev);
  }
  void *buf = aligned_buffer(RAND_BLOCK);
  uint64_t state = 0x6d696e69766d6d31ULL; /* "minivmm1" */
  double start = now();
  for (unsigned long i = 0; i < ops; i++) {
    off_t off = (off_t)(next_random(&state) % blocks) * RAND_BLOCK;
    full_io(fd, 0, buf, RAND_BLOCK, off, dev);
  }
  double secs = now() - start;
  printf("BENCH %s IOPS=%.0f ops=%lu secs=%.3f\n", test, (double)ops / secs, ops, secs);
  close(fd);
  free(buf);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 4) {
    fprintf(stderr, "usage: blkbench seq-read|seq-write DEV MIB | rand-read DEV OPS\n");
    return 2;
  }
  test = argv[1];
  unsigned long count = parse_count(argv[3]);
  if (strcmp(test, "seq-read") == 0) {
    seq(argv[2], count, 0);
  } else if (strcmp(test, "seq-write") == 0) {
    seq(argv[2], count, 1);
  } else if (strcmp(test, "rand-read") == 0) {
    rand_read(argv[2], count);
  } else {
    fprintf(stderr, "blkbench: unknown test '%s' (seq-read, seq-write, rand-read)\n", test);
    return 2;
  }
  return 0;
}
