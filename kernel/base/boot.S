/* PVH entry: Xen/QEMU enter here in 32-bit protected mode, paging off, %ebx = physical address
 * of struct hvm_start_info. We build identity page tables for the first 4 GiB (2 MiB pages),
 * enable PAE + long mode + NX + SSE, load our GDT and jump to kmain(start_info) in 64-bit mode.
 * mm.c replaces these tables with the sealed ones later. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.p2align 2
	.long 4f - 3f		/* namesz */
	.long 6f - 5f		/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
3:	.asciz "Xen"
4:	.p2align 2
5:	.quad pvh_start
6:	.p2align 2

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl $boot_stack_top, %esp
	/* the tables live in a NOBITS section: zero them before use */
	movl $boot_pml4, %edi
	movl $(6 * 1024), %ecx
	xorl %eax, %eax
	rep stosl
	movl %ebx, %edi

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; each PD maps 1 GiB with 2 MiB pages. */
	movl $boot_pml4, %eax
	movl $boot_pdpt, %edx
	orl $0x3, %edx
	movl %edx, (%eax)
	movl $boot_pdpt, %eax
	movl $boot_pd, %edx
	orl $0x3, %edx
	movl $4, %ecx
1:	movl %edx, (%eax)
	addl $8, %eax
	addl $4096, %edx
	loop 1b
	movl $boot_pd, %eax
	movl $0x83, %edx		/* present | writable | 2 MiB page */
	xorl %esi, %esi			/* high dword of the physical address */
	movl $2048, %ecx
2:	movl %edx, (%eax)
	movl %esi, 4(%eax)
	addl $8, %eax
	addl $0x200000, %edx
	jnc 7f
	incl %esi
7:	loop 2b

	/* CR4: PAE | OSFXSR | OSXMMEXCPT */
	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	/* EFER: LME, and NXE when the CPU has NX (CPUID 0x80000001 EDX bit 20) */
	movl $0x80000001, %eax
	cpuid
	xorl %esi, %esi
	btl $20, %edx
	jnc 8f
	movl $(1 << 11), %esi
8:	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8), %eax
	orl %esi, %eax
	wrmsr
	/* CR0: PG | PE | MP, clear EM (SSE usable), WP so read-only pages bind the base too */
	movl %cr0, %eax
	andl $~(1 << 2), %eax
	orl $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp
	/* clear .bss (the loader zeroes it too, but Xen and QEMU do not promise it); the stack and
	 * page tables above live in .boot_data, which is not cleared. */
	movq %rdi, %rbx
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	movq %rbx, %rdi
	xorl %ebp, %ebp
	call kmain
9:	cli
	hlt
	jmp 9b

	.section .rodata
	.p2align 3
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	/* Boot-time page tables and stack: not .bss, since .bss is cleared after they are in use. */
	.section .boot_data, "aw", @nobits
	.p2align 12
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip 32768
	.globl boot_stack_top
boot_stack_top:

	/* Xen writes its hypercall stubs here (MSR from CPUID leaf base+2); 32 bytes per call. */
	.section .hypercall, "awx", @nobits
	.p2align 12
	.globl hypercall_page
hypercall_page:
	.skip 4096
