// Encoder test: every form is decoded by binutils' objdump and compared with the expected text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Assembler,
  ALU,
  SHIFT,
  CC,
  Label,
  mem,
  NO_BASE,
  RAX,
  RCX,
  RDX,
  RBX,
  RSP,
  RBP,
  RSI,
  RDI,
  R8,
  R9,
  R11,
  R12,
  R13,
  R14,
  R15,
} from './x64.ts';

function disassemble(code: Uint8Array): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-x64-'));
  try {
    const f = join(dir, 'code.bin');
    writeFileSync(f, code);
    const out = execFileSync(
      'objdump',
      ['-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', '--insn-width=16', f],
      { encoding: 'utf8' },
    );
    return out
      .split('\n')
      .filter((l) => /^\s+[0-9a-f]+:\t/.test(l))
      .map((l) =>
        l
          .split('\t')[2]!
          .replace(/\s+/g, ' ')
          .replace(/\s*#.*$/, '')
          .trim(),
      );
  } finally {
    rmSync(dir, { recursive: true });
  }
}

const cases: [string, (a: Assembler) => void][] = [
  ['add eax,ecx', (a) => a.aluRR(ALU.add, false, RAX, RCX)],
  ['sub r12,r11', (a) => a.aluRR(ALU.sub, true, R12, R11)],
  ['cmp rsi,0x7f', (a) => a.aluRI(ALU.cmp, true, RSI, 127)],
  ['and r13d,0x12345', (a) => a.aluRI(ALU.and, false, R13, 0x12345)],
  ['xor rdx,QWORD PTR [rbp-0x8]', (a) => a.aluRM(ALU.xor, true, RDX, mem(RBP, -8))],
  ['cmp rax,QWORD PTR [r15+0x8]', (a) => a.aluRM(ALU.cmp, true, RAX, mem(R15, 8))],
  ['mov r8,rdi', (a) => a.movRR(true, R8, RDI)],
  ['mov ecx,0xffffffff', (a) => a.movRI(false, RCX, -1n)],
  ['mov rcx,0xffffffffffffffff', (a) => a.movRI(true, RCX, -1n)],
  ['movabs r11,0x123456789', (a) => a.movRI(true, R11, 0x123456789n)],
  ['mov r13,QWORD PTR [rsp+0x10]', (a) => a.load(true, R13, mem(RSP, 16))],
  ['mov DWORD PTR [r13+0x0],esi', (a) => a.store(false, mem(R13, 0), RSI)],
  ['mov BYTE PTR [r14+rax*1+0x4],sil', (a) => a.store8(mem(R14, 4, RAX), RSI)],
  ['mov WORD PTR [r14+r11*1],dx', (a) => a.store16(mem(R14, 0, R11), RDX)],
  ['mov BYTE PTR [r14+rax*1+0x4],0xff', (a) => a.storeImm8(mem(R14, 4, RAX), -1)],
  ['mov WORD PTR [r14+r11*1],0x1234', (a) => a.storeImm16(mem(R14, 0, R11), 0x1234)],
  ['mov QWORD PTR [r14+rcx*1],0xfffffffffffffffe', (a) => a.storeImm32(true, mem(R14, 0, RCX), -2)],
  ['lea r8d,[r13-0x1]', (a) => a.lea(false, R8, mem(R13, -1))],
  ['mov esi,r12d', (a) => a.movRR(false, RSI, R12)],
  ['movzx eax,BYTE PTR [r14+rcx*1+0x100]', (a) => a.movzx8(false, RAX, mem(R14, 256, RCX))],
  ['movsx rax,WORD PTR [r12]', (a) => a.movsx16(true, RAX, mem(R12, 0))],
  ['movsxd rdx,edi', (a) => a.movsxd(RDX, RDI)],
  ['movzx esi,dil', (a) => a.movzx8(false, RSI, RDI)],
  ['lea r11,[rax+0x4]', (a) => a.lea(true, R11, mem(RAX, 4))],
  ['lea eax,[rbx*4+0x4f0]', (a) => a.lea(false, RAX, mem(NO_BASE, 0x4f0, RBX, 4))],
  ['lea r11d,[r12*8+0x0]', (a) => a.lea(false, R11, mem(NO_BASE, 0, R12, 8))],
  ['lea rdx,[r13*2-0x10]', (a) => a.lea(true, RDX, mem(NO_BASE, -16, R13, 2))],
  ['lea eax,[rcx+rdx*4]', (a) => a.lea(false, RAX, mem(RCX, 0, RDX, 4))],
  ['lea r8d,[r13+rbx*8+0x0]', (a) => a.lea(false, R8, mem(R13, 0, RBX, 8))],
  ['lea esi,[r12+r9*2]', (a) => a.lea(false, RSI, mem(R12, 0, R9, 2))],
  ['imul ebx,r8d', (a) => a.imulRR(false, RBX, R8)],
  ['imul rax,rcx,0x3e8', (a) => a.imulRRI(true, RAX, RCX, 1000)],
  ['idiv rcx', (a) => a.unary(7, true, RCX)],
  ['neg r12d', (a) => a.unary(3, false, R12)],
  ['shl rdx,cl', (a) => a.shiftCL(SHIFT.shl, true, RDX)],
  ['ror eax,0x7', (a) => a.shiftRI(SHIFT.ror, false, RAX, 7)],
  ['test rdi,rdi', (a) => a.testRR(true, RDI, RDI)],
  ['setl sil', (a) => a.setcc(CC.L, RSI)],
  ['cmovne r8,rax', (a) => a.cmov(CC.NE, true, R8, RAX)],
  ['bsr ecx,edx', (a) => a.bsr(false, RCX, RDX)],
  ['btc rax,0x3f', (a) => a.btI(7, true, RAX, 63)],
  ['push r15', (a) => a.push(R15)],
  ['pop rbx', (a) => a.pop(RBX)],
  ['call QWORD PTR [r15+0x18]', (a) => a.callM(mem(R15, 24))],
  ['jmp r11', (a) => a.jmpM(R11)],
  ['movsd xmm3,QWORD PTR [r14+rax*1]', (a) => a.movsdLoad(true, 3, mem(R14, 0, RAX))],
  ['movss DWORD PTR [rbp-0x10],xmm12', (a) => a.movsdStore(false, mem(RBP, -16), 12)],
  ['movq xmm9,rax', (a) => a.movGX(true, 9, RAX)],
  ['movd r11d,xmm2', (a) => a.movXG(false, R11, 2)],
  ['addsd xmm1,xmm14', (a) => a.sseArith(0x58, true, 1, 14)],
  ['ucomiss xmm0,xmm1', (a) => a.ucomis(false, 0, 1)],
  ['xorps xmm15,xmm15', (a) => a.sseLogic(0x57, 15, 15)],
  ['cvtsi2sd xmm2,rdx', (a) => a.cvtsi2s(true, true, 2, RDX)],
  ['cvttss2si eax,xmm4', (a) => a.cvtts2si(false, false, RAX, 4)],
  ['cvtss2sd xmm0,xmm1', (a) => a.cvtFloat(false, 0, 1)],
];

test('every instruction form decodes as intended', () => {
  const a = new Assembler();
  for (const [, emit] of cases) emit(a);
  const got = disassemble(a.bytes());
  assert.deepEqual(
    got,
    cases.map(([t]) => t.replace(/,/g, ',')),
  );
});

test('labels resolve forwards and backwards', () => {
  const a = new Assembler();
  const back = new Label();
  const fwd = new Label();
  a.bind(back);
  a.jcc(CC.E, fwd);
  a.jmp(back);
  a.leaLabel(RAX, fwd);
  a.bind(fwd);
  a.ret();
  const got = disassemble(a.bytes());
  // je rel32 (6 bytes, forward), jmp rel8 (2 bytes, backward and near), lea (7 bytes).
  assert.equal(got[0], 'je 0xf');
  assert.equal(got[1], 'jmp 0x0');
  assert.equal(got[2], 'lea rax,[rip+0x0]');
  assert.equal(got[3], 'ret');
  assert.equal(a.len, 16);
});

test('backward branches out of rel8 range and short forward jumps', () => {
  const a = new Assembler();
  const back = new Label();
  const fwd = new Label();
  a.bind(back);
  for (let i = 0; i < 130; i++) a.byte(0x90);
  a.jcc(CC.NE, back); // 130 bytes back: rel32
  a.jmpShortForward(fwd);
  a.byte(0x90);
  a.bind(fwd);
  a.jcc(CC.L, back);
  const got = disassemble(a.bytes()).slice(130);
  assert.deepEqual(got, ['jne 0x0', 'jmp 0x8b', 'nop', 'jl 0x0']);
  assert.equal(a.len, 130 + 6 + 2 + 1 + 6);
  const b = new Assembler();
  const far = new Label();
  b.jmpShortForward(far);
  for (let i = 0; i < 200; i++) b.byte(0x90);
  assert.throws(() => b.bind(far), /short jump/);
});
