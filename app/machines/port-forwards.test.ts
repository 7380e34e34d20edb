import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeForward, forwardUrl, parsePortForward } from './port-forwards.ts';

test('forwards default to loopback and TCP', () => {
  assert.deepEqual(parsePortForward('8080:80'), {
    protocol: 'tcp',
    hostAddress: '127.0.0.1',
    hostPort: 8080,
    guestPort: 80,
  });
  assert.equal(describeForward(parsePortForward('8080:80')), '127.0.0.1:8080 → guest :80/tcp');
});

test('explicit address, UDP and IPv6', () => {
  assert.deepEqual(parsePortForward('0.0.0.0:5353:53/udp'), {
    protocol: 'udp',
    hostAddress: '0.0.0.0',
    hostPort: 5353,
    guestPort: 53,
  });
  assert.deepEqual(parsePortForward('[::1]:8443:443'), {
    protocol: 'tcp',
    hostAddress: '::1',
    hostPort: 8443,
    guestPort: 443,
  });
  assert.equal(describeForward(parsePortForward('[::1]:8443:443')), '[::1]:8443 → guest :443/tcp');
  assert.equal(parsePortForward(':9000:90').hostAddress, '127.0.0.1');
});

test('bad forwards are rejected with the reason', () => {
  assert.throws(() => parsePortForward('80'), /hostport:guestport/);
  assert.throws(() => parsePortForward('70000:80'), /outside 1-65535/);
  assert.throws(() => parsePortForward('8080:80/sctp'), /unknown protocol/);
  assert.throws(() => parsePortForward('example.com:8080:80'), /not an IP address/);
});

test('clickable URLs for TCP only; wildcard binds open through loopback', () => {
  assert.equal(forwardUrl(parsePortForward('8080:80')), 'http://127.0.0.1:8080/');
  assert.equal(forwardUrl(parsePortForward('0.0.0.0:8080:80')), 'http://127.0.0.1:8080/');
  assert.equal(forwardUrl(parsePortForward('5353:53/udp')), null);
});
