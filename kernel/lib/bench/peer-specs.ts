// What each Linux VM peer runs: the same servers and settings as the native peers of the
// benchmark (one nginx worker, one NSD server, redis-server without persistence), listening on
// the VM's address on the standard ports the appliances use.
import type { PeerSpec } from './linux-peer.ts';

export function nginxPeer(indexHtml: string): PeerSpec {
  return {
    name: 'nginx',
    command: ['/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf', '-p', '/srv', '-e', 'stderr'],
    files: {
      '/etc/passwd': 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
      '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
      '/srv/site/index.html': indexHtml,
      '/etc/nginx/nginx.conf':
        'daemon off; master_process off; worker_processes 1; user root; pid /run/nginx.pid;\n' +
        'error_log stderr;\nevents { worker_connections 1024; }\n' +
        'http { types { text/html html; } default_type application/octet-stream; access_log off;\n' +
        ' client_body_temp_path /tmp; proxy_temp_path /tmp; fastcgi_temp_path /tmp; uwsgi_temp_path /tmp; scgi_temp_path /tmp;\n' +
        ' server { listen 80; root /srv/site; } }\n',
    },
  };
}

export function nsdPeer(zone: string): PeerSpec {
  return {
    name: 'nsd',
    command: ['/usr/sbin/nsd', '-d', '-c', '/etc/nsd/nsd.conf'],
    files: {
      '/etc/nsd/example.test.zone': zone,
      '/etc/nsd/nsd.conf':
        'server:\n  port: 53\n  username: ""\n  chroot: ""\n  zonesdir: "/etc/nsd"\n  pidfile: "/run/nsd.pid"\n' +
        '  database: ""\n  xfrdfile: "/run/xfrd.state"\n  zonelistfile: "/run/zone.list"\n  server-count: 1\n' +
        '  rrl-ratelimit: 0\n  verbosity: 2\nremote-control:\n  control-enable: no\n' +
        'zone:\n  name: example.test\n  zonefile: "/etc/nsd/example.test.zone"\n',
    },
  };
}

export function redisPeer(): PeerSpec {
  return {
    name: 'redis',
    command: [
      '/usr/bin/redis-server',
      '--port',
      '6379',
      '--bind',
      '0.0.0.0',
      '--protected-mode',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    files: {},
  };
}
