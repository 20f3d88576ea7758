# shellcheck shell=bash
# Nested harness steps (x86_64): L1 offers a working KVM with nested paging.
expect_steps kvm-device kvm-amd-nested-npt kvm-smoke
step kvm-device test -c /dev/kvm
step kvm-amd-nested-npt bash -c '[ "$(cat /sys/module/kvm_amd/parameters/nested)" = 1 ] &&
                                 [ "$(cat /sys/module/kvm_amd/parameters/npt)" = Y ]'
step kvm-smoke python3 scripts/nested/kvm_smoke.py
