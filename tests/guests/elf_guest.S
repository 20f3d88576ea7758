/* A tiny x86_64 ELF "vmlinux": a PVH entry (32-bit, announced by the Xen ELF
 * note type 18, XEN_ELFNOTE_PHYS32_ENTRY) and a 64-bit e_entry for the Linux
 * 64-bit boot protocol. Each prints which way it was entered and resets. */
#include "uart.inc"

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                   /* namesz: "Xen\0" */
    .long 4                   /* descsz */
    .long 18                  /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_entry
    .balign 4

    .text
    .code32
    .globl pvh_entry
pvh_entry:                    /* protected mode, paging off, ebx = start_info */
    cmpl $0x336ec578, (%ebx)  /* hvm_start_info magic: prove start_info is there */
    jne bad_start_info
    movl $msg_pvh, %esi
    movl $(msg_pvh_end - msg_pvh), %ecx
    PUTS_AND_RESET
bad_start_info:
    movl $msg_bad, %esi
    movl $(msg_bad_end - msg_bad), %ecx
    PUTS_AND_RESET

    .code64
    .globl _start
_start:                       /* long mode, identity paging, rsi = zero page */
    cmpl $0x53726448, 0x202(%rsi)  /* "HdrS" in the zero page's setup header */
    jne 4f
    leaq msg_linux(%rip), %rsi
    movl $(msg_linux_end - msg_linux), %ecx
    PUTS_AND_RESET
4:  leaq msg_bad(%rip), %rsi
    movl $(msg_bad_end - msg_bad), %ecx
    PUTS_AND_RESET

    .section .rodata
msg_pvh:   .ascii "MINIVMM-GUEST-OK pvh\r\n"
msg_pvh_end:
msg_linux: .ascii "MINIVMM-GUEST-OK linux64 elf\r\n"
msg_linux_end:
msg_bad:   .ascii "MINIVMM-GUEST-BAD boot data missing\r\n"
msg_bad_end:
