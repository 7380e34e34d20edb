// Shared test and benchmark inputs: one zone and one site, so the appliance tests and the
// benchmark build identical appliances (one compile serves both: asc is slow on a busy machine).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_ZONE = `; test zone: every supported type, relative names, parentheses, units
$ORIGIN example.test.
$TTL 1h
@       IN SOA ns1 hostmaster.example.test. (
            2026112601 ; serial
            3600       ; refresh
            15m        ; retry
            1w         ; expire
            300 )      ; minimum
        IN NS  ns1
        IN NS  ns2.example.test.
        IN MX  10 mail
        IN MX  20 mail2.other.test.
        IN A   192.0.2.1
        IN TXT "v=spf1 -all"
ns1     IN A   192.0.2.53
ns2     600 IN A 192.0.2.54
mail    IN A   192.0.2.25
        IN AAAA 2001:db8::25
www     IN CNAME web
web     IN A   192.0.2.80
        IN AAAA 2001:db8:0:0:1::80
chain1  CNAME chain2
chain2  CNAME www
outside CNAME www.other.test.
_sip._tcp IN SRV 10 60 5060 sip
sip     A 192.0.2.60
txt     TXT "hello world" "second \\"quoted\\" part" unquoted
a.b.c   A 192.0.2.99
sub     NS ns.sub
ns.sub  A 192.0.2.200
`;

/** Deterministic 4 MiB + 7 bytes: the large file of the site. */
export function bigFile(): Buffer {
  const big = Buffer.alloc(4 * 1024 * 1024 + 7);
  for (let i = 0; i < big.length; i += 32) createHash('sha256').update(String(i)).digest().copy(big, i);
  return big;
}

export const INDEX_HTML = `<!doctype html><h1>appliance</h1>${'x'.repeat(1024)}\n`;

/** A folder with index.html (1 KiB) and big.bin, written once per machine. */
export function testSite(): string {
  const dir = join(tmpdir(), 'kiln-protocols-site-v1');
  const big = join(dir, 'big.bin');
  if (!existsSync(big) || readFileSync(big).length !== 4 * 1024 * 1024 + 7) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX_HTML);
    writeFileSync(big, bigFile());
  }
  return dir;
}
