/* The boot benchmark's floor: the fewest instructions a PVH kernel needs to show it ran: write
 * one byte to COM1 and exit through isa-debug-exit with status 0. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4
	.long 8
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.quad floor_start

	.text
	.code32
	.globl floor_start
floor_start:
	movw $0x3f8, %dx
	movb $'F', %al
	outb %al, %dx
	movb $'\n', %al
	outb %al, %dx
	movw $0xf4, %dx
	xorl %eax, %eax
	outl %eax, %dx
1:	cli
	hlt
	jmp 1b
