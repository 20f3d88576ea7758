/* A PVH guest that never resets: with -DPANIC it prints what a Linux panic
 * prints (the VMM must notice and exit with its panic code), without it a
 * line and nothing more (the VMM's --timeout must end it). */
#include "uart.inc"

    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 4, 18            /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_entry
    .balign 4

    .text
    .code32
    .globl pvh_entry, _start
_start:
pvh_entry:
    movl $msg, %esi
    movl $(msg_end - msg), %ecx
    PUTS_AND_HANG

    .section .rodata
#ifdef PANIC
msg: .ascii "[    1.000000] Kernel panic - not syncing: minivmm test guest\r\n"
#else
msg: .ascii "MINIVMM-GUEST hanging\r\n"
#endif
msg_end:
