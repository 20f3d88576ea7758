// A tiny riscv64 "kernel" for the riscv64 KVM integration tests: an Image
// header the loader accepts, then in S-mode with the MMU off (a0 = hart id,
// a1 = the device tree) it prints to the 16550A at 0x10000000
// (boot/memory_map_riscv64.h), prints through the legacy SBI console (which
// KVM forwards to the VMM), checks that a forwarded call the VMM does not
// implement answers SBI_ERR_NOT_SUPPORTED, asks KVM's SBI HSM to start hart
// 1, reports how many harts answered, and ends the VM with SBI SRST (a
// KVM_EXIT_SYSTEM_EVENT for the VMM): shutdown, or cold reboot with -DRESET.
        .option norvc
        .option norelax
        .text
        .global _start
_start:
        j       entry                   // code0
        .word   0                       // code1
        .dword  0                       // text_offset
        .dword  0x10000                 // image_size (>= this file)
        .dword  0                       // flags: little-endian
        .word   0x2                     // version 0.2
        .word   0                       // res1
        .dword  0                       // res2
        .ascii  "RISCV\0\0\0"           // magic (deprecated)
        .ascii  "RSC\x05"               // magic2
        .word   0                       // res3 (PE offset)

entry:
        mv      s0, a0                  // hart id
        mv      s1, a1                  // device tree
        lla     a0, banner
        call    puts
        beqz    s0, 1f
        lla     a0, bad_hart_msg
        call    puts
1:      beqz    s1, no_dtb
        lwu     t0, 0(s1)
        li      t1, 0xedfe0dd0          // FDT magic 0xd00dfeed, big-endian in memory
        beq     t0, t1, 2f
no_dtb:
        lla     a0, no_dtb_msg
        call    puts
2:
        // Legacy console putchar (EID 0x01), one ecall per character.
        lla     s2, sbi_msg
3:      lbu     a0, 0(s2)
        beqz    a0, 4f
        li      a7, 0x01
        ecall
        addi    s2, s2, 1
        j       3b
4:
        // A call in the experimental range (forwarded to user space): the VMM must say NOT_SUPPORTED (-2).
        li      a7, 0x08000000
        li      a6, 0
        li      a0, 0
        ecall
        mv      t3, a0
        li      t0, -2
        lla     a0, notsupp_ok
        beq     t3, t0, 6f
        lla     a0, notsupp_bad
6:      call    puts
        // SBI HSM hart_start (EID "HSM", FID 0): hart 1 at `secondary`, opaque 0.
        li      a7, 0x48534d
        li      a6, 0
        li      a0, 1
        lla     a1, secondary
        li      a2, 0
        ecall
        bnez    a0, one_cpu             // SBI_ERR_INVALID_PARAM: there is no hart 1
        lla     t0, flag
7:      lw      t1, 0(t0)
        beqz    t1, 7b
        lla     a0, two_cpus
        call    puts
        j       power_off
one_cpu:
        lla     a0, one_cpu_msg
        call    puts
power_off:
        // SBI SRST system_reset (EID "SRST", FID 0): type 0 shutdown / 1 cold reboot, reason 0.
        li      a7, 0x53525354
        li      a6, 0
#ifdef RESET
        li      a0, 1
#else
        li      a0, 0
#endif
        li      a1, 0
        ecall
        j       .

secondary:
        lla     a0, cpu1_msg
        call    puts
        lla     t0, flag
        li      t1, 1
        fence   rw, rw
        sw      t1, 0(t0)
        // SBI HSM hart_stop (FID 1).
        li      a7, 0x48534d
        li      a6, 1
        ecall
        j       .

// puts(a0 = NUL-terminated string); clobbers a0, t4, t5.
puts:
        li      t4, 0x10000000
8:      lbu     t5, 0(a0)
        beqz    t5, 9f
        sb      t5, 0(t4)
        addi    a0, a0, 1
        j       8b
9:      ret

banner:         .asciz "GUEST-OK riscv64\n"
bad_hart_msg:   .asciz "GUEST-BAD-HART\n"
no_dtb_msg:     .asciz "GUEST-NO-DTB\n"
sbi_msg:        .asciz "GUEST-SBI-CONSOLE\n"
notsupp_ok:     .asciz "GUEST-SBI-NOTSUPP-OK\n"
notsupp_bad:    .asciz "GUEST-SBI-NOTSUPP-BAD\n"
one_cpu_msg:    .asciz "GUEST-CPUS=1\n"
two_cpus:       .asciz "GUEST-CPUS=2\n"
cpu1_msg:       .asciz "GUEST-CPU1-ON\n"
        .balign 8
flag:   .word   0
