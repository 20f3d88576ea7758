/* A tiny bzImage: a real boot-protocol 2.15 setup header, a protected-mode
 * part with the 64-bit entry at +0x200 that prints a line and resets, and
 * as its "compressed payload" the gzipped elf_guest (so the PVH path can
 * extract it and boot it like a real bzImage's vmlinux). */
#include "uart.inc"

#define SETUP_SECTS 1

    .code16
    .section .text
    .globl _start
_start:
    .org 0x1f1
    .byte SETUP_SECTS                     /* 0x1f1 setup_sects */
    .word 0                               /* 0x1f2 root_flags */
    .long (pm_end - pm_start + 15) / 16   /* 0x1f4 syssize, 16-byte units */
    .word 0                               /* 0x1f8 ram_size */
    .word 0xffff                          /* 0x1fa vid_mode: normal */
    .word 0                               /* 0x1fc root_dev */
    .word 0xaa55                          /* 0x1fe boot_flag */
    .byte 0xeb, 0x66                      /* 0x200 jump over the header */
    .ascii "HdrS"                         /* 0x202 header */
    .word 0x020f                          /* 0x206 version 2.15 */
    .long 0                               /* 0x208 realmode_swtch */
    .word 0                               /* 0x20c start_sys_seg */
    .word 0                               /* 0x20e kernel_version */
    .byte 0                               /* 0x210 type_of_loader */
    .byte 0x01                            /* 0x211 loadflags: LOADED_HIGH */
    .word 0                               /* 0x212 setup_move_size */
    .long 0x100000                        /* 0x214 code32_start */
    .long 0                               /* 0x218 ramdisk_image */
    .long 0                               /* 0x21c ramdisk_size */
    .long 0                               /* 0x220 bootsect_kludge */
    .word 0                               /* 0x224 heap_end_ptr */
    .byte 0                               /* 0x226 ext_loader_ver */
    .byte 0                               /* 0x227 ext_loader_type */
    .long 0                               /* 0x228 cmd_line_ptr */
    .long 0x7fffffff                      /* 0x22c initrd_addr_max */
    .long 0x200000                        /* 0x230 kernel_alignment */
    .byte 0                               /* 0x234 relocatable_kernel */
    .byte 21                              /* 0x235 min_alignment */
    .word 0x0001                          /* 0x236 xloadflags: XLF_KERNEL_64 */
    .long 2047                            /* 0x238 cmdline_size */
    .long 0                               /* 0x23c hardware_subarch */
    .quad 0                               /* 0x240 hardware_subarch_data */
    .long payload - pm_start              /* 0x248 payload_offset */
    .long payload_end - payload           /* 0x24c payload_length */
    .quad 0                               /* 0x250 setup_data */
    .quad 0x100000                        /* 0x258 pref_address */
    .long 0x400000                        /* 0x260 init_size */
    .long 0                               /* 0x264 handover_offset */
    .long 0                               /* 0x268 kernel_info_offset */
    .org (SETUP_SECTS + 1) * 512

pm_start:                                 /* loaded at 1 MiB */
    .code32
    ud2                                   /* startup_32: the VMM uses the 64-bit entry */
    .org pm_start + 0x200
    .code64
startup_64:                               /* rsi = zero page */
    cmpl $0x53726448, 0x202(%rsi)
    jne 1f
    leaq msg(%rip), %rsi
    movl $(msg_end - msg), %ecx
    PUTS_AND_RESET
1:  leaq msg_bad(%rip), %rsi
    movl $(msg_bad_end - msg_bad), %ecx
    PUTS_AND_RESET
msg:     .ascii "MINIVMM-GUEST-OK linux64 bzimage\r\n"
msg_end:
msg_bad: .ascii "MINIVMM-GUEST-BAD boot data missing\r\n"
msg_bad_end:
    .balign 16
payload:
    .incbin "elf_guest.elf.gz"
payload_end:
    .balign 16
pm_end:
