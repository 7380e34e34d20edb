// The checks real clients make of the dns and http-static appliances, shared by the tests that run
// them under Node (dns/dns-appliance.test.ts, http/http-appliance.test.ts) and in a VM
// (host/templates-vm.test.ts). `exec` says where the clients run: the namespace of the
// appliance's TAP, or the VM's.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { TapNetns } from '../netns.ts';
import { INDEX_HTML } from '../../bench/fixtures.ts';

export type Exec = TapNetns['exec'];

export interface Dig {
  dig(...args: string[]): Promise<string>;
  /** `dig +short`, answer lines sorted */
  short(...args: string[]): Promise<string[]>;
}

export function digAt(exec: Exec, server: string, timeS: number): Dig {
  const dig = async (...args: string[]): Promise<string> =>
    (await exec('dig', [`@${server}`, '+norecurse', `+time=${timeS}`, '+tries=2', ...args])).stdout;
  const short = async (...args: string[]): Promise<string[]> =>
    (await dig('+short', ...args))
      .trim()
      .split('\n')
      .filter((l) => l)
      .sort();
  return { dig, short };
}

/** Every record type of TEST_ZONE (bench/fixtures.ts) over UDP. */
export async function checkZoneAnswers({ short }: Dig): Promise<void> {
  assert.deepEqual(await short('example.test', 'A'), ['192.0.2.1']);
  assert.deepEqual(await short('mail.example.test', 'AAAA'), ['2001:db8::25']);
  assert.deepEqual(await short('www.example.test', 'CNAME'), ['web.example.test.']);
  assert.deepEqual(await short('example.test', 'MX'), ['10 mail.example.test.', '20 mail2.other.test.']);
  assert.deepEqual(await short('example.test', 'NS'), ['ns1.example.test.', 'ns2.example.test.']);
  assert.deepEqual(await short('example.test', 'SOA'), [
    'ns1.example.test. hostmaster.example.test. 2026112601 3600 900 604800 300',
  ]);
  assert.deepEqual(await short('txt.example.test', 'TXT'), [
    '"hello world" "second \\"quoted\\" part" "unquoted"',
  ]);
  assert.deepEqual(await short('_sip._tcp.example.test', 'SRV'), ['10 60 5060 sip.example.test.']);
}

/** NXDOMAIN with the zone's SOA, REFUSED outside the zone, an answer over TCP. */
export async function checkNegativeAndTcp({ dig, short }: Dig): Promise<void> {
  const nx = await dig('nope.example.test', 'A');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /AUTHORITY SECTION:\nexample\.test\.\s+300\s+IN\s+SOA/);
  assert.match(await dig('example.org', 'A', '+recurse'), /status: REFUSED/);
  assert.deepEqual(await short('web.example.test', 'A', '+tcp'), ['192.0.2.80']);
}

export interface Curl {
  curl(...args: string[]): Promise<string>;
  /** sha256 (hex) of what `curl -s <args>` downloads */
  sha(args: string): Promise<string>;
}

/** `maxTimeS` bounds a small request, `bulkMaxTimeS` a download by sha256. */
export function curlAt(exec: Exec, maxTimeS: number, bulkMaxTimeS: number): Curl {
  return {
    curl: async (...args) =>
      (
        await exec('curl', ['-s', '--max-time', String(maxTimeS), ...args], {
          timeoutMs: (maxTimeS + 30) * 1000,
        })
      ).stdout,
    sha: async (args) =>
      (
        await exec('sh', ['-c', `curl -s --max-time ${bulkMaxTimeS} ${args} | sha256sum`], {
          timeoutMs: (bulkMaxTimeS + 30) * 1000,
        })
      ).stdout.split(' ')[0]!,
  };
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The test site (bench/fixtures.ts testSite): index, 404, HEAD of big.bin, keep-alive reuse. */
export async function checkSiteBasics(
  exec: Exec,
  { curl }: Curl,
  server: string,
  big: Buffer,
): Promise<void> {
  assert.equal(await curl(`http://${server}/`), INDEX_HTML);
  assert.equal(await curl('-o', '/dev/null', '-w', '%{http_code}', `http://${server}/missing`), '404');
  const head = await curl('-I', `http://${server}/big.bin`);
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, new RegExp(`Content-Length: ${big.length}\r\n`));
  const v = await exec('curl', [
    '-sv',
    '-o',
    '/dev/null',
    '-o',
    '/dev/null',
    `http://${server}/`,
    `http://${server}/index.html`,
  ]);
  assert.match(v.stderr, /Re-using existing connection/);
}

/** big.bin by sha256, whole and a 200 000-byte range of it. */
export async function checkBigFile({ sha }: Curl, server: string, big: Buffer): Promise<void> {
  assert.equal(await sha(`-r 1000-200999 http://${server}/big.bin`), sha256(big.subarray(1000, 201000)));
  assert.equal(await sha(`http://${server}/big.bin`), sha256(big));
}
