/* A minimal PVH kernel for the machines tests: it needs no kernel base, so the launch, console,
 * exit-status and crash paths are tested against real QEMU on their own. Behaviour is chosen by
 * the first character of the command line, followed by an optional decimal number N:
 *   xN  print a banner and exit with status N (isa-debug-exit); every exit prints the ABI's
 *       last line "kiln: exit N" first
 *   cN  print N numbered lines as fast as the UART takes them, then exit 0
 *   e   print "kiln: ready", echo console input back (prefixed), publish stats on COM2
 *       (one line per byte echoed); the byte 'q' exits 0
 *   t   triple fault          p   pvpanic, then halt          h   halt forever
 * Stats lines on COM2 follow kernel/ABI.md section 4's format: "kiln-stats 1 t=0 mem=U/T
 * net0=<rxB>/<rxP>/<rxD>/<txB>/<txP>/<txD>"; here the "NIC" is the console
 * (rx = bytes the guest read, tx = bytes it echoed) so tests can check counters end to end. */
.intel_syntax noprefix
.section .note.Xen, "a"
.align 4
.long 4
.long 4
.long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
.asciz "Xen"
.align 4
.long _start

.text
.code32
.globl _start
_start:
  cli
  mov esp, offset stack_top
  mov esi, [ebx + 24]       /* hvm_start_info.cmdline_paddr (low half) */
  mov word ptr [port], 0x3f8
  lea eax, banner
  call puts
  xor ecx, ecx
  test esi, esi
  jz .Lhalt
  movzx edi, byte ptr [esi] /* mode letter */
  inc esi
  xor eax, eax              /* N = decimal digits following the letter */
.Lnum:
  movzx ecx, byte ptr [esi]
  sub ecx, '0'
  cmp ecx, 9
  ja .Lnum_done
  imul eax, eax, 10
  add eax, ecx
  inc esi
  jmp .Lnum
.Lnum_done:
  cmp edi, 'x'
  je .Lexit
  cmp edi, 'c'
  je .Lchatter
  cmp edi, 'e'
  je .Lecho
  cmp edi, 't'
  je .Ltriple
  cmp edi, 'p'
  je .Lpanic
.Lhalt:
  hlt
  jmp .Lhalt

.Lexit:
  call exit_with
  jmp .Lhalt

.Lchatter:
  mov edi, eax              /* lines to print */
  xor ebx, ebx
.Lchat_loop:
  cmp ebx, edi
  jae .Lchat_done
  lea eax, chat_prefix
  call puts
  mov eax, ebx
  call putdec
  mov al, 10
  call putc
  inc ebx
  jmp .Lchat_loop
.Lchat_done:
  lea eax, chat_end
  call puts
  xor eax, eax
  call exit_with
  jmp .Lhalt

.Ltriple:
  lidt [null_idt]
  int3
  jmp .Lhalt

.Lpanic:
  mov dx, 0x505
  mov al, 1
  out dx, al
  jmp .Lhalt

.Lecho:
  lea eax, ready
  call puts
.Lecho_wait:
  mov dx, 0x3fd             /* LSR: bit 0 = data ready */
  in al, dx
  test al, 1
  jz .Lecho_wait
  mov dx, 0x3f8
  in al, dx
  inc dword ptr [rx_count]
  cmp al, 'q'
  je .Lecho_quit
  push eax
  mov al, '>'
  call putc
  pop eax
  call putc
  add dword ptr [tx_count], 2
  call publish_stats
  jmp .Lecho_wait
.Lecho_quit:
  xor eax, eax
  call exit_with
  jmp .Lhalt

/* exit_with(eax = status): the ABI's last line "kiln: exit <status>", then isa-debug-exit. */
exit_with:
  push eax
  lea eax, exit_line
  call puts
  mov eax, [esp]
  call putdec
  mov al, 10
  call putc
  /* LSR.TEMT: QEMU has handed every byte to the chardev. Exiting on THRE alone could lose the
   * tail when the engine reads slowly (a loaded host) and the socket is full. */
  mov dx, [port]
  add dx, 5
.Lwait_temt:
  in al, dx
  test al, 0x40
  jz .Lwait_temt
  pop eax
  out 0xf4, al
  ret

/* One stats line on COM2. */
publish_stats:
  mov word ptr [port], 0x2f8
  lea eax, stats_prefix
  call puts
  mov eax, [rx_count]
  call putdec
  mov al, '/'
  call putc
  mov eax, [rx_count]
  call putdec
  lea eax, zero_sep
  call puts
  mov eax, [tx_count]
  call putdec
  mov al, '/'
  call putc
  mov eax, [tx_count]
  shr eax, 1
  call putdec
  lea eax, zero_end
  call puts
  mov word ptr [port], 0x3f8
  ret

/* putc(al) on the current port, waiting for the transmitter (LSR bit 5). */
putc:
  push edx
  push eax
  mov dx, [port]
  add dx, 5
.Lwait_thr:
  in al, dx
  test al, 0x20
  jz .Lwait_thr
  pop eax
  mov dx, [port]
  out dx, al
  pop edx
  ret

/* puts(eax = NUL-terminated string) */
puts:
  push esi
  mov esi, eax
.Lputs_loop:
  mov al, [esi]
  test al, al
  jz .Lputs_done
  call putc
  inc esi
  jmp .Lputs_loop
.Lputs_done:
  pop esi
  ret

/* putdec(eax) */
putdec:
  push ebx
  push ecx
  push edx
  mov ebx, 10
  xor ecx, ecx
.Ldigits:
  xor edx, edx
  div ebx
  push edx
  inc ecx
  test eax, eax
  jnz .Ldigits
.Lemit:
  pop eax
  add al, '0'
  call putc
  loop .Lemit
  pop edx
  pop ecx
  pop ebx
  ret

.data
banner: .asciz "kiln pvh test kernel\n"
ready: .asciz "kiln: ready\n"
chat_prefix: .asciz "chatter line "
chat_end: .asciz "chatter done\n"
exit_line: .asciz "kiln: exit "
stats_prefix: .asciz "kiln-stats 1 t=0 mem=4096/33554432 net0="
zero_sep: .asciz "/0/"
zero_end: .asciz "/0\n"
.align 8
null_idt: .word 0
          .long 0
port: .word 0x3f8
.align 4
rx_count: .long 0
tx_count: .long 0

.bss
.align 16
.space 4096
stack_top:
