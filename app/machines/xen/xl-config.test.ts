// Every config the Xen backend generates is parsed by libxl's own parser (libxlutil) and turned
// into libxl's domain config, which must say what the spec said. Xen itself cannot run here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MachineSpec } from '../types.ts';
import { parseWithLibxl } from './tools/xlcfg2json.ts';
import { buildXlConfig, domainName, quote } from './xl-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-xlcfg-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function parse(text: string) {
  const file = join(dir, `c${n++}.cfg`);
  writeFileSync(file, text);
  return parseWithLibxl(file);
}

const base: MachineSpec = {
  name: 'web',
  kernelPath: '/var/lib/kiln/images/web.elf',
  cmdline: '',
  memoryMiB: 64,
  vcpus: 1,
  hypervisor: 'xen',
  accelerator: 'auto',
  machineType: 'microvm',
  nics: [],
  disks: [],
};

interface LibxlConfig {
  c_info: { type: string; name: string };
  b_info: { kernel: string; cmdline?: string; max_memkb: number; target_memkb: number; max_vcpus: number };
  nics?: { devid: number; mac: string; bridge: string }[];
  disks?: { pdev_path: string; vdev: string; format: string; readwrite?: number }[];
  on_crash?: string;
}

const specs: [string, MachineSpec][] = [
  ['no NIC, no disk', base],
  ['awkward cmdline', { ...base, cmdline: 'greeting="hi \\"there\\"" path=C:\\tmp dns=1.1.1.1' }],
  ['resources', { ...base, memoryMiB: 512, vcpus: 4 }],
  [
    'two NICs on bridges, one with its own MAC',
    {
      ...base,
      nics: [
        { mode: 'bridge', bridge: 'xenbr0' },
        { mode: 'bridge', bridge: 'br-lan', mac: '00:16:3e:01:02:03' },
      ],
    },
  ],
  ['a tap-mode NIC attaches to the named bridge', { ...base, nics: [{ mode: 'tap', ifname: 'xenbr1' }] }],
  [
    'disks rw and ro',
    { ...base, disks: [{ path: '/srv/kiln/data.img' }, { path: '/srv/kiln/ro.img', readOnly: true }] },
  ],
];

for (const [what, spec] of specs) {
  test(`libxl parses the generated config: ${what}`, () => {
    const r = parse(buildXlConfig(spec, 7));
    assert.ok(r.ok, r.ok ? '' : r.error);
    const c = r.config as unknown as LibxlConfig;
    assert.equal(c.c_info.type, 'pvh');
    assert.equal(c.c_info.name, domainName(spec, 7));
    assert.equal(c.b_info.kernel, spec.kernelPath);
    assert.equal(c.b_info.cmdline ?? '', spec.cmdline);
    assert.equal(c.b_info.max_memkb, spec.memoryMiB * 1024);
    assert.equal(c.b_info.target_memkb, spec.memoryMiB * 1024);
    assert.equal(c.b_info.max_vcpus, spec.vcpus);
    assert.equal(c.on_crash, 'preserve');
    assert.equal(c.nics?.length ?? 0, spec.nics.length);
    spec.nics.forEach((nic, i) => {
      assert.equal(
        c.nics![i]!.bridge,
        nic.mode === 'bridge' ? nic.bridge : nic.mode === 'tap' ? nic.ifname : '',
      );
      if (nic.mac) assert.equal(c.nics![i]!.mac, nic.mac);
      assert.match(c.nics![i]!.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    });
    assert.equal(c.disks?.length ?? 0, spec.disks.length);
    spec.disks.forEach((d, i) => {
      assert.equal(c.disks![i]!.pdev_path, d.path);
      assert.equal(c.disks![i]!.format, 'raw');
      assert.equal(c.disks![i]!.readwrite ?? 0, d.readOnly ? 0 : 1);
    });
  });
}

test('the judge is not a rubber stamp: broken configs are refused', () => {
  const good = buildXlConfig(base, 1);
  assert.equal(parse(good.replace('memory = 64', 'memory = 64 +')).ok, false, 'syntax error');
  assert.equal(parse(good + 'memroy = 5\n').ok, false, 'unknown key');
  assert.equal(parse(good.replace('type = "pvh"', 'type = "banana"')).ok, false, 'unknown type');
  assert.equal(parse(good + 'vif = [ "mac=zz:16:3e:01:02:03" ]\n').ok, false, 'bad MAC');
  assert.equal(parse(good + 'disk = [ "format=qcow9,target=/x" ]\n').ok, false, 'bad disk spec');
  assert.equal(parse(good.replace('on_crash = "preserve"', 'on_crash = "explode"')).ok, false, 'bad action');
});

test('user-mode networking is refused with the fix; values with newlines are refused', () => {
  assert.throws(
    () => buildXlConfig({ ...base, nics: [{ mode: 'user', forwards: [] }] }, 1),
    /choose a bridge/,
  );
  assert.throws(() => quote('a\nb'), /newlines/);
});
