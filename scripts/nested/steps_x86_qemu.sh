# shellcheck shell=bash
# Nested harness steps (x86_64): reference L2 boots under QEMU/KVM inside L1
# on the same kernel, initramfs and command line as minivmm's (functions:
# lib_x86_l2.sh). They need no minivmm, so they also check the harness itself.
expect_steps qemu-microvm-tuned qemu-microvm-default qemu-pc qemu-pvh-vmlinux qemu-smp2-acpi
step qemu-microvm-tuned qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M "$QEMU_TUNED_MACHINE"
step qemu-microvm-default qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M microvm
step qemu-pc qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M pc
# QEMU boots an ELF vmlinux through PVH: cross-checks extract_vmlinux.sh.
step qemu-pvh-vmlinux qemu_l2 "$CLOUD_VMLINUX" "$L2_CMDLINE" MINIVMM-INIT-OK -M "$QEMU_TUNED_MACHINE"
step qemu-smp2-acpi qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-CPUS=2 -M pc -smp 2
# No MP-table reference: SeaBIOS's MP table under nested KVM listed only the
# boot CPU (the generic kernel with acpi=off and -smp 2 reported 1 CPU).
