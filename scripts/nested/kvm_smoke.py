#!/usr/bin/env python3
"""Smallest proof that /dev/kvm runs a guest: real-mode code that writes 0x42
to port 0x10 and halts. Checks KVM_GET_API_VERSION, creates a VM and a vCPU,
and expects KVM_EXIT_IO (port 0x10, byte 0x42) then KVM_EXIT_HLT. Used by the
nested harness as its first step inside L1; needs only python3's stdlib."""
import ctypes
import fcntl
import mmap
import os
import struct
import sys

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_GET_VCPU_MMAP_SIZE = 0xAE04
KVM_CREATE_VCPU = 0xAE41
KVM_SET_USER_MEMORY_REGION = 0x4020AE46
KVM_RUN = 0xAE80
KVM_GET_REGS, KVM_SET_REGS = 0x8090AE81, 0x4090AE82
KVM_GET_SREGS, KVM_SET_SREGS = 0x8138AE83, 0x4138AE84
KVM_EXIT_IO, KVM_EXIT_HLT = 2, 5
SREGS_SIZE, REGS_SIZE = 312, 144
CODE_GPA = 0x1000
CODE = bytes([0xB0, 0x42,   # mov al, 0x42
              0xE6, 0x10,   # out 0x10, al
              0xF4])        # hlt


def fail(msg):
    print(f"kvm_smoke: FAIL: {msg}")
    sys.exit(1)


def main():
    try:
        kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        fail(f"/dev/kvm: {e.strerror}")
    api = fcntl.ioctl(kvm, KVM_GET_API_VERSION)
    if api != 12:
        fail(f"KVM_GET_API_VERSION returned {api}, expected 12")
    vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)

    mem = mmap.mmap(-1, 0x10000, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mem[CODE_GPA:CODE_GPA + len(CODE)] = CODE
    host_addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
    region = struct.pack("=IIQQQ", 0, 0, 0, len(mem), host_addr)
    fcntl.ioctl(vm, KVM_SET_USER_MEMORY_REGION, region)

    vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
    run_size = fcntl.ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE)
    run = mmap.mmap(vcpu, run_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    sregs = bytearray(fcntl.ioctl(vcpu, KVM_GET_SREGS, bytes(SREGS_SIZE)))
    struct.pack_into("=Q", sregs, 0, 0)    # cs.base
    struct.pack_into("=H", sregs, 12, 0)   # cs.selector
    fcntl.ioctl(vcpu, KVM_SET_SREGS, bytes(sregs))
    regs = bytearray(REGS_SIZE)
    struct.pack_into("=Q", regs, 16 * 8, CODE_GPA)  # rip
    struct.pack_into("=Q", regs, 17 * 8, 0x2)       # rflags
    fcntl.ioctl(vcpu, KVM_SET_REGS, bytes(regs))

    fcntl.ioctl(vcpu, KVM_RUN, 0)
    reason = struct.unpack_from("=I", run, 8)[0]
    if reason != KVM_EXIT_IO:
        fail(f"first exit reason {reason}, expected KVM_EXIT_IO ({KVM_EXIT_IO})")
    direction, size, port, count, data_offset = struct.unpack_from("=BBHIQ", run, 32)
    value = run[data_offset]
    if (direction, size, port, count, value) != (1, 1, 0x10, 1, 0x42):
        fail(f"io exit dir={direction} size={size} port={port:#x} count={count} "
             f"value={value:#x}, expected out 1 byte 0x42 to port 0x10")
    fcntl.ioctl(vcpu, KVM_RUN, 0)
    reason = struct.unpack_from("=I", run, 8)[0]
    if reason != KVM_EXIT_HLT:
        fail(f"second exit reason {reason}, expected KVM_EXIT_HLT ({KVM_EXIT_HLT})")
    print(f"kvm_smoke: OK api={api} guest wrote 0x42 to port 0x10 and halted")


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        fail(f"KVM ioctl failed: {e}")
