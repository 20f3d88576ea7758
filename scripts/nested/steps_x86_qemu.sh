# Nested harness steps (x86_64): the reference L2 boots with QEMU/KVM inside L1,
# on the same kernel, initramfs and command line as minivmm's boots, for the
# side-by-side figures (each step's secs is start to marker). Needs (exported
# by test_x86.sh): CLOUD_BZIMAGE, CLOUD_VMLINUX, GENERIC_BZIMAGE, INITRD;
# QEMU_RUNS (default 1) repeats the tuned microvm boot, QEMU_ALL=1 adds the
# other machine types, the PVH vmlinux boot and the 2-CPU boots.

export L2_CMDLINE=${L2_CMDLINE:-"console=ttyS0 reboot=t panic=-1"}

# qemu_l2 KERNEL CMDLINE EXPECT QEMU-ARGS...: boots until the console matches
# EXPECT, then stops QEMU; fails if QEMU ends first.
qemu_l2() {
  local kernel=$1 cmdline=$2 expect=$3 line start found=1
  shift 3
  start=$(date +%s.%N)
  coproc L2 { exec qemu-system-x86_64 -enable-kvm -cpu host -m 512M -nographic -no-reboot \
                -kernel "$kernel" -initrd "$INITRD" -append "$cmdline" "$@" </dev/null 2>&1; }
  local pid=$L2_PID
  while IFS= read -r line <&"${L2[0]}"; do
    printf '%s\n' "${line%$'\r'}"
    if [[ $line == *"$expect"* ]]; then found=0; break; fi
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  ((found == 0)) && echo "qemu_l2: $expect after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')s"
  return $found
}

tuned=microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on
for run in $(seq "${QEMU_RUNS:-1}"); do
  step "qemu-microvm-tuned-$run" qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M "$tuned"
done
if [ "${QEMU_ALL:-0}" = 1 ]; then
  step qemu-microvm-default qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M microvm
  step qemu-pc qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M pc
  # QEMU boots an ELF vmlinux through PVH: cross-checks extract_vmlinux.sh.
  step qemu-pvh-vmlinux qemu_l2 "$CLOUD_VMLINUX" "$L2_CMDLINE" MINIVMM-INIT-OK -M "$tuned"
  step qemu-smp2-acpi qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-CPUS=2 -M pc -smp 2
  # No MP-table reference: SeaBIOS's MP table under nested KVM listed only the
  # boot CPU (the generic kernel with acpi=off and -smp 2 reported 1 CPU).
fi
