# shellcheck shell=sh
# Nested harness steps (aarch64), run by l1_init_aarch64.sh inside L1; the
# functions are in lib_aarch64_l2.sh. Each boot must reach the initramfs's
# marker line on the serial console; the SMP boot must report 2 CPUs online.
expect_steps kvm-integration-tests boot-image-1cpu boot-image-smp2 boot-image-gz \
  disk-root-pci disk-root-mmio disk-root-hvc0 exec-virtiofs exec-9p exec-missing-command exec-shell net-user net-tap hostile-pci hostile-mmio
step kvm-integration-tests kvm_integration_tests
step boot-image-1cpu    l2_boot MINIVMM-INIT-OK --kernel /l2/Image
step boot-image-smp2    l2_boot MINIVMM-CPUS=2 --kernel /l2/Image --cpus 2
step boot-image-gz      l2_boot MINIVMM-INIT-OK --kernel /l2/Image.gz
# The root file system on virtio-blk (lib_disk_l2.sh): virtio-pci (MSI-X
# through the vGIC ITS, the guest's vectors checked on its ITS-MSI chip;
# Linux assigns the BARs itself), virtio-mmio device-tree nodes (SPIs), and
# virtio-pci with console=hvc0 alone.
step disk-root-pci      l2_disk_boot_msi pci-arm64 ttyS0 ITS-MSI --virtio-transport pci
step disk-root-mmio     l2_disk_boot mmio-arm64 ttyS0 --virtio-transport mmio
step disk-root-hvc0     l2_disk_boot_msi hvc0-arm64 hvc0 ITS-MSI
# vmm exec (lib_exec_l2.sh): L1's busybox root as the guest's, shares over
# virtio-fs and over 9p, the kernel's modules in the generated initramfs.
step exec-virtiofs      l2_exec_shares virtiofs
step exec-9p            l2_exec_shares 9p
step exec-missing-command l2_exec_missing_command
step exec-shell         l2_exec_shell
# virtio-net (lib_net_l2.sh): DHCP from libslirp, a file from L1's loopback
# checked by sha256, the guest's page fetched through a hostfwd (a taken port
# refused with exit 2); then a TAP with static addresses.
step net-user           l2_net user
step net-tap            l2_net tap
# The hostile guest (lib_hostile_l2.sh; tests/guests/hostile/hostile_aarch64.c)
# under the static vmm until --timeout, virtio over PCI, then over virtio-mmio:
# the VMM must end it itself (exit 6) within guest memory + a slack of RSS,
# each device may log "needs reset" once, the guest must finish its rounds
# without a fault and the disk keep its size. Last, so a troubled L1 costs no
# other step. Each step is the guest's --timeout plus L2's start and teardown.
export HOSTILE_VMM=/minivmm/vmm/vmm HOSTILE_GUEST=/minivmm/tests/guests/hostile_aarch64.bin
export HOSTILE_TIMEOUT="${HOSTILE_TIMEOUT:-60}"
hostile_step_timeout=$STEP_TIMEOUT
STEP_TIMEOUT=$((HOSTILE_TIMEOUT + 90))
step hostile-pci        l2_hostile pci
step hostile-mmio       l2_hostile mmio
STEP_TIMEOUT=$hostile_step_timeout
