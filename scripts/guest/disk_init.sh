#!/bin/sh
# shellcheck shell=dash disable=SC2013 # busybox ash (dash has its local); word loops over one-name-a-line files
# /sbin/init of `build_disk_image.sh`: the disk-side test program. Runs under
# the image's busybox sh as PID 1, prints marker lines on /dev/console and
# powers off.
#
#   MINIVMM-DISK-INIT-OK
#   MINIVMM-DISK-KERNEL=<uname -r>
#   MINIVMM-DISK-ROOT=<device> <ro|rw>              (from /proc/mounts)
#   MINIVMM-DISK-WROTE=/minivmm-result-TAG         or MINIVMM-DISK-WRITE-FAILED=<path>
#   MINIVMM-RO-WRITE-FAILED | MINIVMM-RO-WRITE-SUCCEEDED | MINIVMM-RO-DISK-MISSING=<dev>
#                                                   (only with minivmm.ro_disk=DEV)
#   MINIVMM-RNG=<rng_current or none>
#   MINIVMM-HWRNG-READ-OK | MINIVMM-HWRNG-READ-FAILED bytes=<n>
#   MINIVMM-PCI-MSI=<function>=<vectors>/<interrupts>/<chip>,...  or none
#                                                   (each PCI function with MSI/MSI-X
#                                                   vectors, what arrived on them, their
#                                                   irq chip: ITS-MSI on arm64's ITS)
#   MINIVMM-CONSOLES=<active consoles, comma separated>
#   MINIVMM-CMDLINE-CONSOLES=<console= values, comma separated>
#   MINIVMM-DISK-DONE
#
# Kernel command line: minivmm.tag=TAG (letters, digits, '.', '_', '-';
# default "default") names the result file /minivmm-result-TAG, which holds
# "MINIVMM-WROTE-TAG" and the kernel version (check_disk_image.sh reads it
# on the host); minivmm.ro_disk=DEV asks for a one-sector write to DEV, which
# should fail when the VMM offers DEV read-only; minivmm.shell=1 starts a
# shell on the console after the markers (the VM ends when it exits).
#
# With MINIVMM_INIT_NO_MAIN=1 in the environment it only defines its
# functions (scripts/test_disk_scripts.sh sources it).

# shellcheck source-path=SCRIPTDIR source=guest_lib.sh
. "${MINIVMM_GUEST_LIB:-/lib/minivmm/guest_lib.sh}"

# parse_cmdline FILE: sets tag, ro_disk, shell and cmdline_consoles.
parse_cmdline() {
  local arg
  tag=default ro_disk='' shell=0 end=poweroff cmdline_consoles=''
  set -f
  for arg in $(cat "$1"); do
    case $arg in
      minivmm.tag=*) tag=${arg#minivmm.tag=} ;;
      minivmm.ro_disk=*) ro_disk=${arg#minivmm.ro_disk=} ;;
      minivmm.shell=*) shell=${arg#minivmm.shell=} ;;
      minivmm.end=reboot) end=reboot ;;
      console=*) cmdline_consoles=${cmdline_consoles:+$cmdline_consoles,}${arg#console=} ;;
    esac
  done
  set +f
}

# tag_ok TAG: the tag becomes a file name in /.
tag_ok() {
  case $1 in
    ''|*[!A-Za-z0-9._-]*|.*) return 1 ;;
  esac
  return 0
}

write_result() {
  local file="/minivmm-result-$tag"
  if ! tag_ok "$tag"; then
    echo "MINIVMM-DISK-WRITE-FAILED=bad minivmm.tag '$tag' (letters, digits, . _ -)"
    return 0
  fi
  # Written under another name and renamed, so the host never sees half a file.
  if printf 'MINIVMM-WROTE-%s\nkernel=%s\narch=%s\n' "$tag" "$(uname -r)" "$(uname -m)" >"$file.tmp" 2>/dev/null &&
     mv "$file.tmp" "$file" && sync; then
    echo "MINIVMM-DISK-WROTE=$file"
  else
    echo "MINIVMM-DISK-WRITE-FAILED=$file"
  fi
}

# probe_ro_disk DEV: conv=fsync makes the write reach the device, so a VMM
# that fails the request (rather than a kernel that refuses a read-only
# disk) is seen too; without it dd would only fill the page cache.
probe_ro_disk() {
  if [ ! -b "$1" ]; then
    echo "MINIVMM-RO-DISK-MISSING=$1"
  elif printf 'MINIVMM-RO-WRITE-PROBE' | dd of="$1" bs=512 count=1 conv=sync,fsync 2>/dev/null; then
    echo "MINIVMM-RO-WRITE-SUCCEEDED"
  else
    echo "MINIVMM-RO-WRITE-FAILED"
  fi
}

report_rng() {
  local current=none n
  [ -r /sys/class/misc/hw_random/rng_current ] && current=$(cat /sys/class/misc/hw_random/rng_current)
  echo "MINIVMM-RNG=$current"
  # A device that never answers would block the read for good: bounded.
  n=$(timeout 10 head -c 64 /dev/hwrng 2>/dev/null | wc -c)
  if [ "$n" -eq 64 ]; then echo "MINIVMM-HWRNG-READ-OK"; else echo "MINIVMM-HWRNG-READ-FAILED bytes=$n"; fi
}

# report_msi [SYSFS-PCI-DEVICES [INTERRUPTS]]: which PCI functions the kernel
# gave MSI or MSI-X vectors (their msi_irqs directory), how many interrupts
# arrived on those vectors and which irq chip handles them (the column after
# the per-CPU counts of /proc/interrupts). A function on MSI-X gets no INTx:
# interrupts counted here came through the VMM's MSI routing.
report_msi() {
  local devices=${1:-/sys/bus/pci/devices} interrupts=${2:-/proc/interrupts} dev irqs list=''
  for dev in "$devices"/*; do
    [ -d "$dev/msi_irqs" ] || continue
    irqs=$(ls "$dev/msi_irqs")
    [ -n "$irqs" ] || continue
    list="${list:+$list,}${dev##*/}=$(echo "$irqs" | awk -v file="$interrupts" '
      { want[$1 ":"] = 1; n++ }
      END {
        while ((getline line < file) > 0) {
          f = split(line, w, " ")
          if (!cpus) { cpus = f; continue }
          if (!(w[1] in want)) continue
          for (i = 2; i <= cpus + 1; i++) sum += w[i]
          chip = w[cpus + 2]
        }
        printf "%d/%d/%s", n, sum, chip == "" ? "?" : chip
      }')"
  done
  echo "MINIVMM-PCI-MSI=${list:-none}"
}

main() {
  guest_prologue disk_init

  echo "MINIVMM-DISK-INIT-OK"
  echo "MINIVMM-DISK-KERNEL=$(uname -r)"
  echo "MINIVMM-DISK-ROOT=$(awk '$2 == "/" { split($4, o, ","); d = $1 " " o[1] } END { print d }' /proc/mounts)"
  parse_cmdline /proc/cmdline
  write_result
  [ -z "$ro_disk" ] || probe_ro_disk "$ro_disk"
  report_rng
  report_msi
  echo "MINIVMM-CONSOLES=$(tr ' ' ',' </sys/class/tty/console/active 2>/dev/null)"
  echo "MINIVMM-CMDLINE-CONSOLES=$cmdline_consoles"
  # A read-only remount checkpoints the journal, so the host's debugfs (which
  # does not replay journals) reads the result file where it belongs.
  sync
  mount -o remount,ro / 2>/dev/null || echo "minivmm-disk: remounting / read-only failed"
  echo "MINIVMM-DISK-DONE"
  if [ "$shell" = 1 ]; then
    echo "minivmm-disk: busybox shell on the console; 'exit' or 'poweroff -f' ends the VM"
    setsid cttyhack sh -l
  fi
  # acpi=off leaves an x86 kernel no way to power off (poweroff halts for
  # good): minivmm.end=reboot ends with a reset instead.
  if [ "$end" = reboot ]; then reboot -f; fi
  poweroff -f
  sleep 5
  reboot -f
}

[ "${MINIVMM_INIT_NO_MAIN:-}" = 1 ] || main "$@"
