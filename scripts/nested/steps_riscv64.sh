# shellcheck shell=sh
# Nested harness steps (riscv64), sourced by l1_init_riscv64.sh (busybox ash)
# from /minivmm inside L1: the tiny test guest on KVM, minivmm's riscv64 KVM
# integration tests, then Debian's riscv64 kernel (L2) with the busybox
# initramfs to its marker line, with 1 and 2 harts and from a gzip-compressed
# Image. Each boot prints its --boot-report.
export MINIVMM_BINARY_DIR=/minivmm/build
VMM=/minivmm/build/vmm/vmm
L2_CMDLINE="console=ttyS0 earlycon=sbi panic=-1"
expect_steps tiny-guest kvm-integration-tests boot-image-1cpu boot-image-2cpus boot-image-gzip \
  disk-root-pci disk-root-mmio disk-root-hvc0 exec-virtiofs exec-9p exec-missing-command exec-shell virtiofs-root net-user net-tap hostile-pci hostile-mmio
step tiny-guest $VMM --kernel build/tests/guests/riscv64_guest_off.bin --expect GUEST-CPUS=1 --timeout 60
# KVM works in L1: a skipped test fails the step (kvm_tests_ran, lib_l1.sh).
step kvm-integration-tests kvm_tests_ran ./build/tests/vmm_tests --gtest_filter='KvmBootRiscv64.*' --gtest_brief=1
step boot-image-1cpu $VMM --kernel l2/Image --initrd l2/initramfs.cpio.gz --cmdline "$L2_CMDLINE" \
  --expect MINIVMM-INIT-OK --timeout 300 --boot-report
step boot-image-2cpus $VMM --kernel l2/Image --initrd l2/initramfs.cpio.gz --cmdline "$L2_CMDLINE" --cpus 2 \
  --expect MINIVMM-CPUS=2 --timeout 300 --boot-report
step boot-image-gzip $VMM --kernel l2/Image.gz --initrd l2/initramfs.cpio.gz --cmdline "$L2_CMDLINE" \
  --expect MINIVMM-INIT-OK --timeout 300 --boot-report
# The root file system on virtio-blk (lib_disk_l2.sh, in the payload; each
# step's shell sources STEP_LIB): virtio-pci (INTx on PLIC sources),
# virtio-mmio device-tree nodes, and virtio-pci with console=hvc0 alone.
export STEP_LIB=/minivmm/lib_l2.sh VMM L2_TIMEOUT=300 DISK_KERNEL=/minivmm/l2/Image
export DISK_INITRD=/minivmm/l2/virtio-root.cpio.gz DISK_CMDLINE="earlycon=sbi panic=-1"
step disk-root-pci      l2_disk_boot pci-riscv64 ttyS0 --virtio-transport pci
step disk-root-mmio     l2_disk_boot mmio-riscv64 ttyS0 --virtio-transport mmio
step disk-root-hvc0     l2_disk_boot hvc0-riscv64 hvc0
# vmm exec (lib_exec_l2.sh, in the same STEP_LIB): L1's busybox root as the
# guest's, shares over virtio-fs and over 9p; trixie builds virtio-fs in, 9p
# comes from the generated initramfs's modules.
export EXEC_KERNEL=/minivmm/l2/Image EXEC_MODULES=/minivmm/l2/modules
step exec-virtiofs      l2_exec_shares virtiofs
step exec-9p            l2_exec_shares 9p
step exec-missing-command l2_exec_missing_command
step exec-shell         l2_exec_shell
# trixie's kernel mounts its root from a share with no initramfs at all.
step virtiofs-root      l2_virtiofs_root
# virtio-net (lib_net_l2.sh, in the same STEP_LIB): DHCP from libslirp, a
# file from L1's loopback checked by sha256, the guest's page fetched through
# a hostfwd (a taken port refused with exit 2); then a TAP with static addresses.
export NET_KERNEL=/minivmm/l2/Image NET_INITRD=/minivmm/l2/net.cpio.gz NET_CMDLINE="console=ttyS0 earlycon=sbi panic=-1"
step net-user           l2_net user
step net-tap            l2_net tap
# The hostile guest (lib_hostile_l2.sh, in the same STEP_LIB;
# tests/guests/hostile/hostile_riscv64.c, which adds random SBI calls and the
# PLIC minivmm emulates) under the static vmm until --timeout, virtio over
# PCI, then over virtio-mmio: the VMM must end it itself (exit 6) within
# guest memory + a slack of RSS, each device may log "needs reset" once, the
# guest must finish its rounds without a fault and the disk keep its size.
# Last, so a troubled L1 costs no other step.
export HOSTILE_VMM=$VMM HOSTILE_GUEST=/minivmm/build/tests/guests/hostile_riscv64.bin
export HOSTILE_TIMEOUT="${HOSTILE_TIMEOUT:-60}"
hostile_step_timeout=$STEP_TIMEOUT
STEP_TIMEOUT=$((HOSTILE_TIMEOUT + 90))
step hostile-pci        l2_hostile pci
step hostile-mmio       l2_hostile mmio
STEP_TIMEOUT=$hostile_step_timeout
