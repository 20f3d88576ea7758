# shellcheck shell=bash
# Nested harness steps (x86_64): minivmm inside L1 (functions: lib_x86_l2.sh).
# Each boot must reach the initramfs's marker line on the serial console; the
# SMP boots must report 2 CPUs online.
expect_steps kvm-integration-tests boot-linux-bzimage boot-pvh-bzimage boot-linux-vmlinux \
  boot-pvh-vmlinux boot-auto-bzimage boot-smp2-acpi boot-smp2-mptable console-shell \
  disk-root-pci disk-root-mmio disk-root-hvc0 console-shell-hvc0 disk-root-mptable-intx \
  exec-virtiofs exec-9p exec-missing-command exec-shell net-user net-tap debian-login
[ "${NESTED_X86_HOSTILE:-0}" != 1 ] || expect_steps hostile-pci hostile-mmio
step kvm-integration-tests kvm_integration_tests
step boot-linux-bzimage l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot linux
step boot-pvh-bzimage   l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot pvh
step boot-linux-vmlinux l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_VMLINUX" --boot linux
step boot-pvh-vmlinux   l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_VMLINUX" --boot pvh
step boot-auto-bzimage  l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot auto
# SMP through ACPI's MADT (the cloud kernel parses no MP table) ...
step boot-smp2-acpi     l2_boot MINIVMM-CPUS=2 --kernel "$CLOUD_BZIMAGE" --cpus 2
# ... and through the MP table, on the generic kernel with ACPI off.
step boot-smp2-mptable  l2_boot_with "$L2_CMDLINE acpi=off" MINIVMM-CPUS=2 --kernel "$GENERIC_BZIMAGE" --cpus 2
# The interactive console: a line typed at the busybox shell runs.
step console-shell      l2_console_shell --kernel "$CLOUD_BZIMAGE"
# The root file system on virtio-blk (lib_disk_l2.sh): virtio-pci with MSI-X,
# virtio-mmio (ACPI LNRO0005 devices), and virtio-pci with console=hvc0 alone.
step disk-root-pci      l2_disk_boot pci-x86 ttyS0 --virtio-transport pci
step disk-root-mmio     l2_disk_boot mmio-x86 ttyS0 --virtio-transport mmio
step disk-root-hvc0     l2_disk_boot hvc0-x86 hvc0
# Typing into the guest through virtio-console (host input goes there when
# the last console= is hvc0).
step console-shell-hvc0 l2_hvc0_shell shell-x86
# PCI INTx routed by the MP table alone (acpi=off, pci=nomsi, generic kernel).
step disk-root-mptable-intx l2_disk_boot_mptable mptable-x86
# vmm exec (lib_exec_l2.sh) with the generic Debian kernel and its modules:
# L1's root as the guest's, shares over virtio-fs and over 9p.
# virtio-fs as an unprivileged user (uid 1000, only /dev/kvm opened to it):
# the guest's file in the share must be that user's.
export EXEC_USER=1000:1000
step exec-virtiofs      l2_exec_shares virtiofs
unset EXEC_USER
step exec-9p            l2_exec_shares 9p
step exec-missing-command l2_exec_missing_command
step exec-shell         l2_exec_shell
# The hostile guest (lib_hostile_l2.sh): `l2_hostile pci|mmio` under the
# ASan build until --timeout. Out of CI for a while on 2026-12-05: L1
# itself froze in 3 of 11 runs then (QEMU's vCPU thread asleep, no timer
# waking L1). Back after 10 L1 runs of later main (8 with the hostile steps
# alone at load 4-8, 1 after the exec steps, 1 with every step; a host-side
# watcher on QEMU's CPU time and monitor ready to dump L1's state) passed
# all 20 hostile steps with no freeze. The cause was never caught; one
# candidate is gone: the builds that froze L1 sent every 0xCF8 write to the
# VMM, which KVM now queues without an exit (half the guest's port exits).
# If L1 freezes again: run_x86.sh --monitor, then `info lapic` and
# `info registers` there.
# It froze again in the cold CI run of 2026-12-05 19:50, during hostile-mmio
# (QEMU at 0% CPU, its vCPU thread asleep, the console silent for 12 min;
# one freeze in about 13 runs since the 10 clean ones). So on x86 the two
# steps are opt-in (NESTED_X86_HOSTILE=1, forwarded by test_x86.sh) until
# the cause is found; aarch64 and riscv64 run theirs in CI, and run_x86.sh
# now stops a silent L1 after NESTED_SILENCE seconds.
if [ "${NESTED_X86_HOSTILE:-0}" = 1 ]; then
  STEP_TIMEOUT=$((HOSTILE_TIMEOUT + 90)) step hostile-pci l2_hostile pci
  STEP_TIMEOUT=$((HOSTILE_TIMEOUT + 90)) step hostile-mmio l2_hostile mmio
fi
# virtio-net (lib_net_l2.sh): DHCP from libslirp, a file from L1's loopback
# checked by sha256, a page the guest serves fetched by L1 through a hostfwd
# (and a taken hostfwd port refused with exit 2); then the same over a TAP
# with static addresses.
step net-user           l2_net user
step net-tap            l2_net tap
# A real distribution: the debootstrap bookworm image of build_debian_image.sh
# (L1's third disk, after lib_disk_l2.sh's two) boots with systemd to its
# login prompt on the serial console, and a console login runs a command.
# systemd under nested emulation is slow: the step gets the VM's whole
# timeout and a minute more.
STEP_TIMEOUT=$((DEBIAN_L2_TIMEOUT + 60)) step debian-login l2_debian_login 2
