// The Linux VM peer's pure parts: which libraries ldd names, the kernel command line, the /init
// script. (Booting it is the benchmark's job: minutes under TCG.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initScript, linuxAppend, NET_MODULES, parseLdd } from './linux-peer.ts';
import { redisPeer } from './peer-specs.ts';

describe('linux peer', () => {
  it('parseLdd keeps resolved libraries and the loader, once each, without the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f01)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f03)',
      '\tlibgone.so.1 => not found',
    ].join('\n');
    assert.deepEqual(parseLdd(out), [
      '/lib/x86_64-linux-gnu/libssl.so.3',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('linuxAppend passes the host TSC rate, and leaves it out when cpuinfo has none', () => {
    assert.equal(
      linuxAppend('processor\t: 0\ncpu MHz\t\t: 2096.026\n'),
      'console=ttyS0 panic=-1 quiet tsc_early_khz=2096026',
    );
    assert.equal(linuxAppend('processor\t: 0\n'), 'console=ttyS0 panic=-1 quiet');
  });

  it('the init script loads the modules in order, configures eth0 and runs the server quoted', () => {
    const s = initScript(redisPeer(), '10.77.0.2/24', '10.77.0.1');
    const loads = [...s.matchAll(/insmod \/lib\/modules\/(\w+)\.ko/g)].map((m) => m[1]);
    assert.deepEqual(loads, NET_MODULES);
    assert.ok(NET_MODULES.indexOf('virtio_ring') < NET_MODULES.indexOf('virtio'));
    assert.match(s, /^ip addr add 10\.77\.0\.2\/24 dev eth0$/m);
    assert.match(s, /^ip route add default via 10\.77\.0\.1$/m);
    assert.match(s, /^'\/usr\/bin\/redis-server' .*'--save' '' .*&$/m);
    assert.match(s, /^wait$/m);
  });
});
