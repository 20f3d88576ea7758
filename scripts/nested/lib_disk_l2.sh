# shellcheck shell=sh
# Nested harness, all three architectures (POSIX sh: L1 is busybox on
# aarch64/riscv64): a Debian kernel as L2 whose root file system is on a
# virtio disk. L1's first two disks (--l1-disk of run_*.sh) are the ext4 root
# image of build_disk_image.sh and a raw image the guest must not be able to
# change; minivmm hands both to L2, the second one read-only, where they must
# be /dev/vda and /dev/vdb (the order of --disk). The root-switching
# initramfs (build_virtio_root_initramfs.sh) loads the virtio modules and
# switch_roots to the disk, whose own init (scripts/guest/disk_init.sh)
# writes /minivmm-result-TAG, tries to write the read-only disk, reads the
# hw_random device and powers off. The host reads the result files out of
# the image afterwards (check_disk_image.sh).
#
# Needs VMM, DISK_KERNEL, DISK_INITRD, DISK_CMDLINE (the arch's words without
# console=) and L2_TIMEOUT.

# l1_disk N: L1's device node of the Nth --l1-disk (from 0), found by the
# serial run_*.sh gave it: the order of /dev/vdX need not follow the command
# line (QEMU's arm virt machine fills its virtio-mmio slots from the top).
l1_disk() {
  for d in /sys/block/vd*; do
    if [ "$(cat "$d/serial" 2>/dev/null)" = "l1disk$1" ]; then
      echo "/dev/${d##*/}"
      return 0
    fi
  done
  echo "l1_disk: no L1 disk with serial l1disk$1" >&2
  return 1
}

# l2_disk_boot TAG CONSOLE [VMM-ARGS...]: boots with console=CONSOLE and
# minivmm.tag=TAG. Passes when minivmm exits 0 (the guest powered off, no
# panic) and the console shows every marker of a working disk, entropy
# device and console.
l2_disk_boot() {
  tag=$1 console=$2
  shift 2
  log=/tmp/l2-disk-$tag.log
  root_disk=$(l1_disk 0) && ro_disk=$(l1_disk 1) || return 1
  cmdline="console=$console $DISK_CMDLINE root=/dev/vda rw minivmm.tag=$tag minivmm.ro_disk=/dev/vdb"
  echo "+ vmm --kernel $DISK_KERNEL --initrd $DISK_INITRD --disk $root_disk --disk $ro_disk,ro $* --cmdline '$cmdline'"
  rc=0
  "$VMM" --kernel "$DISK_KERNEL" --initrd "$DISK_INITRD" --memory 512M --console stdio --timeout "$L2_TIMEOUT" \
    --boot-report --disk "$root_disk" --disk "$ro_disk,ro" --cmdline "$cmdline" "$@" >"$log" 2>&1 || rc=$?
  cat "$log"
  if [ "$rc" != 0 ]; then
    echo "l2_disk_boot: vmm exited $rc (0 means the guest powered off with no panic)"
    return 1
  fi
  for marker in MINIVMM-DISK-INIT-OK "MINIVMM-DISK-ROOT=/dev/vda rw" "MINIVMM-DISK-WROTE=/minivmm-result-$tag" \
    MINIVMM-RO-WRITE-FAILED MINIVMM-RNG=virtio_rng MINIVMM-HWRNG-READ-OK "MINIVMM-CONSOLES=.*$console" \
    MINIVMM-DISK-DONE; do
    if ! grep -q -- "$marker" "$log"; then
      echo "l2_disk_boot: the console lacks '$marker'"
      return 1
    fi
  done
}

# l2_disk_boot_msi TAG CONSOLE CHIP [VMM-ARGS...]: l2_disk_boot over
# virtio-pci, and the guest really runs on MSI-X: minivmm's boot report says
# it routes MSI-X, and the root disk's function (00:03.0, after the console
# and the rng) has vectors on irq chip CHIP (what the guest's
# /proc/interrupts names: ITS-MSI on arm64) with interrupts counted on them.
# With MSI-X enabled a virtio-pci function sends no INTx, so the disk that
# booted the guest was served through the MSI routes.
l2_disk_boot_msi() {
  tag=$1 console=$2 chip=$3
  shift 3
  l2_disk_boot "$tag" "$console" "$@" || return 1
  log=/tmp/l2-disk-$tag.log
  if ! grep -q 'note: virtio-pci MSI-X through' "$log"; then
    echo "l2_disk_boot_msi: the boot report does not say MSI-X is routed"
    return 1
  fi
  msi=$(grep -o 'MINIVMM-PCI-MSI=[^[:space:]]*' "$log" | tail -n1)
  echo "l2_disk_boot_msi: $msi"
  root=$(echo "${msi#MINIVMM-PCI-MSI=}" | tr ',=' '\n ' | awk '$1 == "0000:00:03.0" { print $2 }')
  vectors=${root%%/*} rest=${root#*/}
  arrived=${rest%%/*} got_chip=${rest#*/}
  if [ -z "$root" ] || [ "$got_chip" != "$chip" ] || [ "${vectors:-0}" -lt 2 ] || [ "${arrived:-0}" -lt 1 ]; then
    echo "l2_disk_boot_msi: want the root disk 0000:00:03.0 on >= 2 $chip vectors with interrupts, got '${root:-nothing}'"
    return 1
  fi
}
