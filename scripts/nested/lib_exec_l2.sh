# shellcheck shell=sh
# Nested harness, all three architectures (POSIX sh: L1 is busybox on
# aarch64/riscv64): `vmm exec` with a Debian kernel as L2, L1's own root as
# the guest's root, and shares served by minivmm itself (virtio-fs or 9p; the
# generated initramfs loads the kernel's modules for them).
#
# Needs VMM, EXEC_KERNEL, EXEC_MODULES (the kernel's /lib/modules tree) and
# L2_TIMEOUT; EXEC_9P_KERNEL and EXEC_9P_MODULES, when set, are used for 9p
# instead (Debian's cloud kernel, quick to boot, has no 9p).

# l2_exec_shares FS: one boot whose command writes "out" to stdout and "err"
# to stderr and exits 7, after it
#   - wrote a file into a writable share (the host must see it, owned by the
#     user who ran vmm),
#   - failed to write into a read-only share (the host must not see it),
#   - could not follow a relative and an absolute symlink out of the share
#     (their targets exist on L1, but not in the guest: its /tmp is a tmpfs).
l2_exec_shares() {
  fs=$1
  rw=/tmp/exec-rw-$fs ro=/tmp/exec-ro-$fs secret=/tmp/exec-secret-$fs
  rm -rf "$rw" "$ro" "$secret"
  mkdir -p "$rw" "$ro" "$secret"
  echo SECRET >"$secret/file"
  ln -s "../exec-secret-$fs" "$rw/rel-escape"
  ln -s "$secret/file" "$rw/abs-escape"
  echo keep >"$ro/keep"
  script="echo out; echo err >&2
    echo written-by-guest >$rw/from-guest || echo MINIVMM-RW-WRITE-FAILED >&2
    if echo x 2>/dev/null >$ro/new; then echo MINIVMM-RO-WRITE-SUCCEEDED >&2; fi
    grep -q keep $ro/keep || echo MINIVMM-RO-UNREADABLE >&2
    if cat $rw/rel-escape/file 2>/dev/null; then echo MINIVMM-ESCAPED-REL >&2; fi
    if cat $rw/abs-escape 2>/dev/null; then echo MINIVMM-ESCAPED-ABS >&2; fi
    [ -L $rw/rel-escape ] || echo MINIVMM-NOT-A-SYMLINK >&2
    exit 7"
  kernel=$EXEC_KERNEL modules=$EXEC_MODULES
  if [ "$fs" = 9p ] && [ -n "${EXEC_9P_KERNEL:-}" ]; then
    kernel=$EXEC_9P_KERNEL modules=$EXEC_9P_MODULES
  fi
  echo "+ vmm exec --kernel $kernel --fs $fs --share $rw --share $ro,ro -- sh -c '...; exit 7'"
  start=$(date +%s)
  rc=0
  "$VMM" exec --kernel "$kernel" --modules "$modules" --fs "$fs" --timeout "$L2_TIMEOUT" \
    --share "$rw" --share "$ro,ro" -- sh -c "$script" >/tmp/exec-$fs.out 2>/tmp/exec-$fs.err </dev/null || rc=$?
  echo "vmm exec took $(($(date +%s) - start)) s; exit status $rc"
  echo "--- stdout:"; cat /tmp/exec-$fs.out; echo "--- stderr:"; cat /tmp/exec-$fs.err; echo "---"
  ok=1
  [ "$rc" = 7 ] || { echo "l2_exec_shares: exit status $rc, expected the command's 7"; ok=0; }
  [ "$(cat /tmp/exec-$fs.out)" = out ] || { echo "l2_exec_shares: stdout is not exactly 'out'"; ok=0; }
  [ "$(cat /tmp/exec-$fs.err)" = err ] || { echo "l2_exec_shares: stderr is not exactly 'err'"; ok=0; }
  [ "$(cat "$rw/from-guest" 2>/dev/null)" = written-by-guest ] ||
    { echo "l2_exec_shares: the guest's file is not in $rw"; ok=0; }
  if [ -e "$rw/from-guest" ] && [ "$(stat -c %u "$rw/from-guest")" != "$(id -u)" ]; then
    echo "l2_exec_shares: $rw/from-guest is owned by uid $(stat -c %u "$rw/from-guest"), not $(id -u)"
    ok=0
  fi
  [ ! -e "$ro/new" ] || { echo "l2_exec_shares: the read-only share was written"; ok=0; }
  [ "$ok" = 1 ] && echo "MINIVMM-EXEC-OK fs=$fs"
  [ "$ok" = 1 ]
}

# l2_exec_missing_command: a command that does not exist gives 127 and says so.
l2_exec_missing_command() {
  echo "+ vmm exec -- minivmm-no-such-command"
  rc=0
  "$VMM" exec --kernel "$EXEC_KERNEL" --modules "$EXEC_MODULES" --timeout "$L2_TIMEOUT" \
    -- minivmm-no-such-command >/tmp/exec-127.out 2>/tmp/exec-127.err </dev/null || rc=$?
  cat /tmp/exec-127.out /tmp/exec-127.err
  [ "$rc" = 127 ] || { echo "l2_exec_missing_command: exit status $rc, expected 127"; return 1; }
  grep -q minivmm-no-such-command /tmp/exec-127.err ||
    { echo "l2_exec_missing_command: stderr does not name the command"; return 1; }
  echo "MINIVMM-EXEC-127-OK"
}
