// Port forwards are written `[hostip:]hostport:guestport[/udp]`. The host side binds to
// 127.0.0.1 unless the user names an address: forwards that silently listen on every interface
// are a known trap (see UTM #7132), so the default is loopback and the real binding is shown.
import { isIP } from 'node:net';
import type { PortForward } from './types.ts';

export const defaultForwardAddress = '127.0.0.1';

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`${what} "${text}" is not a port number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new Error(`${what} ${port} is outside 1-65535`);
  return port;
}

export function parsePortForward(text: string): PortForward {
  let rest = text.trim();
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp')
      throw new Error(`unknown protocol "${proto}" in "${text}" (tcp or udp)`);
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  // The guest port is after the last colon, the host port before it, and whatever precedes that
  // is the host address (may be a bracketed IPv6 address).
  const lastColon = rest.lastIndexOf(':');
  if (lastColon < 0) throw new Error(`"${text}" must be [hostip:]hostport:guestport[/udp]`);
  const guestPort = parsePort(rest.slice(lastColon + 1), 'guest port');
  const hostPart = rest.slice(0, lastColon);
  const hostColon = hostPart.lastIndexOf(':');
  let hostAddress = defaultForwardAddress;
  let hostPortText = hostPart;
  if (hostColon >= 0) {
    hostAddress = hostPart.slice(0, hostColon).replace(/^\[(.*)\]$/, '$1');
    hostPortText = hostPart.slice(hostColon + 1);
    if (hostAddress === '') hostAddress = defaultForwardAddress;
    else if (isIP(hostAddress) === 0) throw new Error(`host address "${hostAddress}" is not an IP address`);
  }
  const hostPort = parsePort(hostPortText, 'host port');
  return { protocol, hostAddress, hostPort, guestPort };
}

/** The binding as the user will see it: `127.0.0.1:8080 → guest :80/tcp`. */
export function describeForward(f: PortForward): string {
  const host = f.hostAddress.includes(':') ? `[${f.hostAddress}]` : f.hostAddress;
  return `${host}:${f.hostPort} → guest :${f.guestPort}/${f.protocol}`;
}

/** A URL the UI may open for a TCP forward (the wildcard address is reached through loopback). */
export function forwardUrl(f: PortForward): string | null {
  if (f.protocol !== 'tcp') return null;
  const addr = f.hostAddress === '0.0.0.0' ? '127.0.0.1' : f.hostAddress === '::' ? '::1' : f.hostAddress;
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return `http://${host}:${f.hostPort}/`;
}
