#ifndef TRAP_H
#define TRAP_H
#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler)(uint64_t vector);
void irq_set_handler(unsigned vector, irq_handler fn);
void trap_dispatch(struct trap_frame *f);

#endif
