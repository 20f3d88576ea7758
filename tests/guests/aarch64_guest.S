// A tiny arm64 "kernel" for the aarch64 KVM integration tests: an Image
// header the loader accepts, then at EL1 with the MMU off it prints to the
// 16550A at 0x09000000 (boot/memory_map_aarch64.h), asks KVM's PSCI to start
// the vCPU with MPIDR 1, reports how many CPUs answered, and powers the VM
// off with PSCI SYSTEM_OFF over hvc (a KVM_EXIT_SYSTEM_EVENT for the VMM).
        .text
        .global _start
_start:
        b       entry                   // code0
        .word   0                       // code1
        .quad   0                       // text_offset
        .quad   0x10000                 // image_size (>= this file)
        .quad   0xa                     // flags: little-endian, 4 KiB pages, anywhere in RAM
        .quad   0, 0, 0                 // res2..res4
        .ascii  "ARM\x64"               // magic
        .word   0                       // res5

entry:
        mov     x19, x0                 // the DTB, which must be in x0
        adr     x1, banner
        bl      puts
        cbz     x19, no_dtb
        // PSCI CPU_ON (SMC64 0xc4000003): target MPIDR 1, entry, context 0.
        movz    x0, #0x0003
        movk    x0, #0xc400, lsl #16
        mov     x1, #1
        adr     x2, secondary
        mov     x3, #0
        hvc     #0
        cbnz    x0, one_cpu             // INVALID_PARAMETERS: there is no such vCPU
        adr     x4, flag
1:      ldr     w5, [x4]
        cbz     w5, 1b
        adr     x1, two_cpus
        bl      puts
        b       power_off
one_cpu:
        adr     x1, one_cpu_msg
        bl      puts
        b       power_off
no_dtb:
        adr     x1, no_dtb_msg
        bl      puts
power_off:
#ifdef RESET
        movz    w0, #0x0009             // PSCI SYSTEM_RESET 0x84000009
#else
        movz    w0, #0x0008             // PSCI SYSTEM_OFF 0x84000008
#endif
        movk    w0, #0x8400, lsl #16
        hvc     #0
        b       .

secondary:
        adr     x1, cpu1_msg
        bl      puts
        adr     x4, flag
        mov     w5, #1
        str     w5, [x4]
        movz    w0, #0x0002             // PSCI CPU_OFF 0x84000002
        movk    w0, #0x8400, lsl #16
        hvc     #0
        b       .

// puts(x1 = NUL-terminated string); clobbers x1..x3.
puts:
        movz    x2, #0x0900, lsl #16
2:      ldrb    w3, [x1], #1
        cbz     w3, 3f
        strb    w3, [x2]
        b       2b
3:      ret

banner:         .asciz "GUEST-OK aarch64\n"
one_cpu_msg:    .asciz "GUEST-CPUS=1\n"
two_cpus:       .asciz "GUEST-CPUS=2\n"
cpu1_msg:       .asciz "GUEST-CPU1-ON\n"
no_dtb_msg:     .asciz "GUEST-NO-DTB\n"
        .balign 8
flag:   .word   0
