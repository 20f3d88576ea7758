# shellcheck shell=bash
# Nested harness (x86_64): functions of the exec benchmark
# (steps_x86_bench_exec.sh, started by scripts/bench_exec.sh), run inside L1.
# minivmm's `vmm exec` and QEMU/KVM run the very same guest: the same kernel,
# and the initramfs `vmm exec --save-initrd` writes (minivmm's own init, the
# kernel's modules, the command), with L1's / read-only and a data directory
# read-write shared to it
#   - by minivmm itself, over virtio-fs and over 9p,
#   - by QEMU over virtio-9p (its own 9p server) and over virtio-fs with one
#     virtiofsd per share (trixie's; bookworm has none),
# both on virtio-pci (QEMU: microvm with PCIe), hvc0 the hidden console with
# the status line, hvc1/hvc2 the command's stdout/stderr.
#
#   true   `true` as the command: wall time from process start to exit (for
#          QEMU+virtiofsd including the daemons' start)
#   job    a file-heavy command whose parts the guest times itself: walk and
#          stat a tree of BENCH_FILES files, read a BENCH_BIG_MIB MiB file,
#          `git status` in the tree (a git checkout)
#
# Needs (exported by bench_exec.sh through run_x86.sh --env): VMM,
# BENCH_KERNEL, BENCH_MODULES, VIRTIOFSD, BENCH_FILES, BENCH_BIG_MIB,
# BENCH_TIMEOUT; QEMU_TUNED_MACHINE from lib_x86_l2.sh.

: "${BENCH_FILES:?}" "${BENCH_BIG_MIB:?}" "${BENCH_TIMEOUT:?}"
export EXEC_BENCH_DIR=/tmp/minivmm-bench-exec
export EXEC_BENCH_DATA=$EXEC_BENCH_DIR/data
export EXEC_BENCH_RESULTS=$EXEC_BENCH_DIR/results
mkdir -p "$EXEC_BENCH_RESULTS"

# The guest's side of the job: each part timed by the guest's clock.
write_exec_job() {
  cat >"$EXEC_BENCH_DATA/job.sh" <<'EOF'
d=$(dirname "$0")
now() { date +%s.%N; }
a=$(now); files=$(find "$d/tree" -name .git -prune -o -printf '%s %i\n' | wc -l)
b=$(now); bytes=$(cat "$d/big" | wc -c)
c=$(now); changed=$(GIT_OPTIONAL_LOCKS=0 git -C "$d/tree" status --porcelain | wc -l)
e=$(now)
echo "BENCH-JOB $(awk -v a="$a" -v b="$b" -v c="$c" -v e="$e" 'BEGIN {printf "walk=%.3f read=%.3f git=%.3f", b-a, c-b, e-c}') files=$files bytes=$bytes changed=$changed"
EOF
}

# bench_exec_prepare: the data directory in L1's RAM (its /tmp): a tree of
# BENCH_FILES small files in directories of 100, committed to git; a
# BENCH_BIG_MIB MiB file from /dev/urandom; the job; and the saved initramfs
# of each protocol and command.
bench_exec_prepare() {
  rm -rf "$EXEC_BENCH_DIR"
  mkdir -p "$EXEC_BENCH_DATA/tree" "$EXEC_BENCH_RESULTS"
  local i start
  start=$(date +%s.%N)
  for ((i = 0; i < BENCH_FILES; i++)); do
    ((i % 100 == 0)) && mkdir -p "$EXEC_BENCH_DATA/tree/d$((i / 100))"
    echo "file $i" >"$EXEC_BENCH_DATA/tree/d$((i / 100))/f$i"
  done
  git -C "$EXEC_BENCH_DATA/tree" init -q &&
    git -C "$EXEC_BENCH_DATA/tree" add -A &&
    git -C "$EXEC_BENCH_DATA/tree" -c user.name=bench -c user.email=bench@localhost commit -qm tree &&
    git -C "$EXEC_BENCH_DATA/tree" status --porcelain >/dev/null ||
    { echo "bench_exec_prepare: making the git tree failed"; return 1; }
  dd if=/dev/urandom of="$EXEC_BENCH_DATA/big" bs=1M count="$BENCH_BIG_MIB" status=none ||
    { echo "bench_exec_prepare: writing the big file failed"; return 1; }
  write_exec_job
  echo "bench_exec_prepare: $BENCH_FILES files in git, $BENCH_BIG_MIB MiB file, in $(elapsed_since "$start")s"
  local fs what
  for fs in virtiofs 9p; do
    for what in true job; do
      local cmd=(true)
      [ "$what" = job ] && cmd=(sh "$EXEC_BENCH_DATA/job.sh")
      "$VMM" exec --kernel "$BENCH_KERNEL" --modules "$BENCH_MODULES" --fs "$fs" --share "$EXEC_BENCH_DATA,tag=data" \
        --save-initrd "$EXEC_BENCH_DIR/initrd-$fs-$what" -- "${cmd[@]}" >"$EXEC_BENCH_DIR/spec-$fs-$what" ||
        { echo "bench_exec_prepare: vmm exec --save-initrd ($fs, $what) failed"; return 1; }
    done
  done
  cat "$EXEC_BENCH_DIR/spec-virtiofs-true"
  echo "bench_exec_prepare: vmm $VMM ($("$VMM" --version 2>&1 | head -n1))"
  echo "bench_exec_prepare: $(qemu-system-x86_64 --version | head -n1); $("$VIRTIOFSD" --version)"
  echo "bench_exec_prepare: L1 $(uname -r), $(nproc) CPU; guest kernel $BENCH_KERNEL"
}

# record KIND VALUE: one figure of one run.
record() { echo "$2" >>"$EXEC_BENCH_RESULTS/$1"; echo "BENCH-RESULT $1 $2"; }

# job_figures KIND FILE: the guest's BENCH-JOB line in FILE, recorded per part.
job_figures() {
  local line
  line=$(grep -m1 '^BENCH-JOB ' "$2" | tr -d '\r') || { echo "$1: no BENCH-JOB line"; cat "$2"; return 1; }
  echo "$line"
  case $line in *" files=$((BENCH_FILES + (BENCH_FILES + 99) / 100 + 1)) "*) ;;
    *) echo "$1: the guest did not see every file of the tree"; return 1 ;;
  esac
  case $line in *" bytes=$((BENCH_BIG_MIB << 20)) "*) ;; *) echo "$1: the guest read a short big file"; return 1 ;; esac
  local part
  for part in walk read git; do
    record "$1-$part" "$(sed -n "s/.* $part=\([0-9.]*\).*/\1/p" <<<"$line")"
  done
}

# exec_minivmm FS WHAT: one `vmm exec` run.
exec_minivmm() {
  local fs=$1 what=$2 out=$EXEC_BENCH_DIR/out-minivmm rc=0 start
  local cmd=(true)
  [ "$what" = job ] && cmd=(sh "$EXEC_BENCH_DATA/job.sh")
  start=$(date +%s.%N)
  "$VMM" exec --kernel "$BENCH_KERNEL" --modules "$BENCH_MODULES" --fs "$fs" --timeout "$BENCH_TIMEOUT" \
    --share "$EXEC_BENCH_DATA,tag=data" -- "${cmd[@]}" >"$out" 2>"$out.err" </dev/null || rc=$?
  local took
  took=$(elapsed_since "$start")
  [ "$rc" = 0 ] || { echo "exec_minivmm $fs $what: exit status $rc"; cat "$out" "$out.err"; return 1; }
  if [ "$what" = true ]; then record "true-minivmm-$fs" "$took"; else job_figures "job-minivmm-$fs" "$out"; fi
}

# exec_qemu FS WHAT: the same guest under QEMU/KVM.
exec_qemu() {
  local fs=$1 what=$2 dir=$EXEC_BENCH_DIR/qemu rc=0 start
  rm -rf "$dir"
  mkdir -p "$dir"
  local spec=$EXEC_BENCH_DIR/spec-$fs-$what
  local cmdline
  cmdline=$(sed -n 's/^cmdline //p' "$spec")
  # shellcheck disable=SC2054 # commas belong to QEMU option values
  local qemu=(qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -display none -monitor none -serial none
              -no-reboot -kernel "$BENCH_KERNEL" -initrd "$EXEC_BENCH_DIR/initrd-$fs-$what" -append "$cmdline"
              -device virtio-serial-pci,id=vs
              -chardev "file,id=hvc0,path=$dir/hvc0" -device virtconsole,bus=vs.0,chardev=hvc0
              -chardev "file,id=hvc1,path=$dir/stdout" -device virtconsole,bus=vs.0,chardev=hvc1
              -chardev "file,id=hvc2,path=$dir/stderr" -device virtconsole,bus=vs.0,chardev=hvc2)
  local machine=$QEMU_TUNED_MACHINE,pcie=on
  local daemons=() n=0 tag mode path
  # A file, not <(...): L1's devtmpfs has no /dev/fd.
  sed -n 's/^share //p' "$spec" >"$dir/shares"
  start=$(date +%s.%N)
  while read -r tag mode path; do
    local ro=
    if [ "$fs" = 9p ]; then
      [ "$mode" = ro ] && ro=,readonly=on
      qemu+=(-fsdev "local,id=fs$n,path=$path,security_model=none,multidevs=remap$ro"
             -device "virtio-9p-pci,fsdev=fs$n,mount_tag=$tag")
    else
      [ "$mode" = ro ] && ro=--readonly
      "$VIRTIOFSD" --socket-path="$dir/vfs$n.sock" --shared-dir="$path" --sandbox=none $ro >"$dir/virtiofsd$n.log" 2>&1 &
      daemons+=($!)
      qemu+=(-chardev "socket,id=vfs$n,path=$dir/vfs$n.sock" -device "vhost-user-fs-pci,chardev=vfs$n,tag=$tag")
    fi
    n=$((n + 1))
  done <"$dir/shares"
  if [ "$fs" = virtiofs ]; then
    # vhost-user needs the guest's RAM in shared memory.
    qemu+=(-object memory-backend-memfd,id=mem,size=512M,share=on)
    machine+=,memory-backend=mem
    local i
    for ((i = 0; i < n; i++)); do
      # The daemon's socket appears once it listens; QEMU must not start sooner.
      local waited=0
      until [ -S "$dir/vfs$i.sock" ]; do
        sleep 0.01
        waited=$((waited + 1))
        ((waited < 1000)) || { echo "exec_qemu: virtiofsd $i never listened"; cat "$dir/virtiofsd$i.log"; return 1; }
      done
    done
  fi
  timeout "$BENCH_TIMEOUT" "${qemu[@]}" -M "$machine" </dev/null >"$dir/qemu.log" 2>&1 || rc=$?
  local took
  took=$(elapsed_since "$start")
  local pid
  for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" != 0 ] || ! grep -q 'minivmm-exec: status 0' "$dir/hvc0"; then
    echo "exec_qemu $fs $what: QEMU exit status $rc"; cat "$dir/qemu.log" "$dir/hvc0" "$dir/stderr" 2>/dev/null
    for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
    return 1
  fi
  if [ "$what" = true ]; then record "true-qemu-$fs" "$took"; else job_figures "job-qemu-$fs" "$dir/stdout"; fi
}

# bench_exec_summary: medians of each kind and the ratios the issue sets
# goals for: `true` wall time minivmm / QEMU (goal <= 0.5), file-heavy
# parts QEMU time / minivmm time, i.e. speed (goal >= 1.0 against
# QEMU+virtiofsd).
bench_exec_summary() {
  # A kind with no figures (every run failed or timed out: QEMU's 9p has not
  # finished the job within BENCH_TIMEOUT here) shows as "-", its ratio too.
  median() {
    [ -s "$EXEC_BENCH_RESULTS/$1" ] || { echo -; return; }
    sort -g "$EXEC_BENCH_RESULTS/$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
  }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-") print "-"; else printf "%.2fx\n", a / b}'; }
  local kind
  for kind in true-minivmm-virtiofs true-minivmm-9p; do
    [ -s "$EXEC_BENCH_RESULTS/$kind" ] || { echo "bench_exec_summary: no figures for $kind"; return 1; }
  done
  echo "NESTED-BENCH | figure | minivmm virtio-fs | minivmm 9p | QEMU+virtiofsd | QEMU 9p | ratio virtio-fs | ratio 9p |"
  echo "NESTED-BENCH |---|---|---|---|---|---|---|"
  local mv m9 qv q9
  mv=$(median true-minivmm-virtiofs) m9=$(median true-minivmm-9p) qv=$(median true-qemu-virtiofs) q9=$(median true-qemu-9p)
  echo "NESTED-BENCH | \`exec -- true\`, wall s (ratio minivmm/QEMU, goal <= 0.50) | $mv | $m9 | $qv | $q9 | $(ratio "$mv" "$qv") | $(ratio "$m9" "$q9") |"
  local part
  for part in walk read git; do
    mv=$(median "job-minivmm-virtiofs-$part") m9=$(median "job-minivmm-9p-$part")
    qv=$(median "job-qemu-virtiofs-$part") q9=$(median "job-qemu-9p-$part")
    echo "NESTED-BENCH | $part, guest s (ratio QEMU/minivmm: speed, goal >= 1.00 vs QEMU+virtiofsd) | $mv | $m9 | $qv | $q9 | $(ratio "$qv" "$mv") | $(ratio "$q9" "$m9") |"
  done
  for kind in "$EXEC_BENCH_RESULTS"/*; do echo "NESTED-BENCH-RAW $(basename "$kind"): $(tr '\n' ' ' <"$kind")"; done
}
