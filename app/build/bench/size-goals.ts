// The image size goals of issue 5 and the lines the benchmarks print about them (bench:build,
// bench:net): each image, what it adds on top of the kernel base, where the bytes go.
import type { BuildArtefact } from '../types.ts';

/** Goals on what an appliance adds on top of the kernel base (the base is shared by all). */
export const SIZE_GOALS: Readonly<Record<string, number>> = { dns: 256 * 1024, hello: 64 * 1024 };

const KiB = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const verdict = (bytes: number, goal: number): string => (bytes < goal ? 'met' : 'NOT met');

export function sizeLines(template: string, a: BuildArtefact): string[] {
  const b = a.breakdown;
  const onTop = a.size - b.kernelBase;
  const parts =
    b.metadata === undefined || b.padding === undefined
      ? `other ${KiB(b.other)}`
      : `metadata ${KiB(b.metadata)}, padding ${KiB(b.padding)}`;
  const lines = [
    `${template}: image ${KiB(a.size)} = kernel base ${KiB(b.kernelBase)} + ${KiB(onTop)} on top`,
    `  (code ${KiB(b.code)}, data ${KiB(b.data)}, assets ${KiB(b.assets)}, ${parts})`,
  ];
  const goal = SIZE_GOALS[template];
  if (goal !== undefined) {
    // Read strictly ("dns under 256 KiB" as the whole image), the dns goal is also checked so.
    const whole = template === 'dns' ? `; whole image < ${KiB(goal)}: ${verdict(a.size, goal)}` : '';
    lines.push(`  goal: < ${KiB(goal)} on top of the base: ${verdict(onTop, goal)}${whole}`);
  }
  return lines;
}
