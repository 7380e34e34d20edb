/* Host peer on a tap device (run inside the test's network namespace): sends `count` frames of
 * ethertype 0x88b5 to the guest through an AF_PACKET socket on the tap, waits for each echo
 * (MACs swapped, payload intact), then sends "quit" frames. Prints "echoed <n>". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const unsigned char host_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static int parse_mac(const char *s, unsigned char *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static size_t build(unsigned char *f, const unsigned char *dst, const char *payload)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x88, f[13] = 0xb5;
	size_t n = strlen(payload);
	memset(f + 14, 0, 46);
	memcpy(f + 14, payload, n);
	return 14 + (n < 46 ? 46 : n);
}

int main(int argc, char **argv)
{
	unsigned char guest[6];
	if (argc != 4 || parse_mac(argv[2], guest)) {
		fprintf(stderr, "usage: tap_peer IFNAME GUEST-MAC COUNT\n");
		return 2;
	}
	int count = atoi(argv[3]);
	int s = socket(AF_PACKET, SOCK_RAW, htons(0x88b5));
	if (s < 0) return perror("socket"), 1;
	struct sockaddr_ll a = { 0 };
	a.sll_family = AF_PACKET;
	a.sll_protocol = htons(0x88b5);
	a.sll_ifindex = (int)if_nametoindex(argv[1]);
	a.sll_halen = 6;
	memcpy(a.sll_addr, guest, 6);
	if (!a.sll_ifindex || bind(s, (struct sockaddr *)&a, sizeof a)) return perror("bind"), 1;
	unsigned char f[2048], r[2048];
	int echoed = 0;
	for (int i = 0; i < count; i++) {
		char payload[64];
		snprintf(payload, sizeof payload, "tap frame %d", i);
		size_t n = build(f, guest, payload);
		if (sendto(s, f, n, 0, (struct sockaddr *)&a, sizeof a) != (ssize_t)n) return perror("send"), 1;
		/* wait for this frame's echo (frames we sent ourselves also show up: skip them) */
		for (;;) {
			struct pollfd p = { s, POLLIN, 0 };
			if (poll(&p, 1, 5000) != 1) {
				printf("echoed %d (timeout at %d)\n", echoed, i);
				return 1;
			}
			ssize_t got = recv(s, r, sizeof r, 0);
			if (got < 14 + (ssize_t)strlen(payload)) continue;
			if (!memcmp(r + 6, guest, 6) && !memcmp(r, host_mac, 6) && !memcmp(r + 14, payload, strlen(payload))) {
				echoed++;
				break;
			}
		}
	}
	for (int i = 0; i < 20; i++) {
		size_t n = build(f, guest, "quit");
		sendto(s, f, n, 0, (struct sockaddr *)&a, sizeof a);
		usleep(100000);
	}
	printf("echoed %d\n", echoed);
	return 0;
}
