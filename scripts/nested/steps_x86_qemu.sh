# Nested harness steps (x86_64): the reference L2 boots with QEMU/KVM inside L1,
# on the same kernel, initramfs and command line as minivmm's boots, for the
# side-by-side figures (each step's secs is start to marker). Needs (exported
# by test_x86.sh): CLOUD_BZIMAGE, INITRD; QEMU_RUNS (default 1) repeats.

export L2_CMDLINE=${L2_CMDLINE:-"console=ttyS0 reboot=t panic=-1"}

# qemu_l2 EXPECT QEMU-ARGS...: boots until the console matches EXPECT, then
# stops QEMU; fails if QEMU ends first.
qemu_l2() {
  local expect=$1 line start found=1
  shift
  start=$(date +%s.%N)
  coproc L2 { exec qemu-system-x86_64 -enable-kvm -cpu host -m 512M -nographic -no-reboot \
                -kernel "$CLOUD_BZIMAGE" -initrd "$INITRD" -append "$L2_CMDLINE" "$@" </dev/null 2>&1; }
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

for run in $(seq "${QEMU_RUNS:-1}"); do
  step "qemu-microvm-tuned-$run" qemu_l2 MINIVMM-INIT-OK \
    -M microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on
done
