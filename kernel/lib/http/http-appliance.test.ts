// The `http-static` template as a whole appliance (library OS TCP/IP included) under Node on a
// TAP in a network namespace, serving an embedded folder to the real `curl`.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startAppliance, type ApplianceHandle } from '../host/appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from '../host/netns.ts';
import { compileTemplate, templateAssets } from '../bench/templates.ts';
import { bigFile, testSite } from '../bench/fixtures.ts';
import { checkBigFile, checkSiteBasics, curlAt, type Curl } from '../host/testing/client-checks.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces and TAP devices';
const APP = '10.77.0.2';

describe('http-static appliance serving curl', { skip, timeout: 900_000 }, () => {
  let n: TapNetns;
  let h: ApplianceHandle;
  // deterministic content, so the compile cache (keyed by the generated sources) is reused
  const big = bigFile();

  before(async () => {
    const wasm = await compileTemplate('http-static', templateAssets('http-static', { siteDir: testSite() }));
    n = createTapNetns('http');
    h = await startAppliance({
      wasm,
      config: {
        ipv4_mode: 'static',
        ipv4_address: `${APP}/24`,
        ipv4_gateway: '10.77.0.1',
        port: 80,
        idle_timeout_s: 2,
        request_timeout_s: 2,
      },
      nics: [{ tap: n.tap, netns: n.ns }],
    });
    await h.waitForOutput('kiln: ready', 60_000);
  });

  after(async () => {
    await h?.stop();
    n?.cleanup();
  });

  const client = (): Curl => curlAt(n.exec, 60, 60);

  test('index, 404, HEAD and keep-alive', async () => {
    await checkSiteBasics(n.exec, client(), APP, big);
  });

  test('a 4 MB file arrives intact, and a byte range of it', async () => {
    await checkBigFile(client(), APP, big);
    assert.equal(
      await client().curl('-o', '/dev/null', '-w', '%{http_code}', '-r', `${big.length}-`, `http://${APP}/big.bin`),
      '416',
    );
  });

  test('a slow client gets 408, an idle keep-alive connection is closed', async () => {
    // `timeout 15 cat` fails the exec unless the appliance closes the connection first
    const t0 = Date.now();
    const slow = await n.exec(
      'bash',
      [
        '-c',
        `exec 3<>/dev/tcp/${APP}/80; printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n' >&3; timeout 15 cat <&3`,
      ],
      { timeoutMs: 30_000 },
    );
    assert.match(slow.stdout, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    const idle = await n.exec(
      'bash',
      [
        '-c',
        `exec 3<>/dev/tcp/${APP}/80; printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3; timeout 15 cat <&3`,
      ],
      { timeoutMs: 30_000 },
    );
    assert.match(idle.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(Date.now() - t0 < 20_000);
  });
});
