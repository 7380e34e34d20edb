/* kiln-tap: opens the TAP device named on the command line and relays Ethernet frames
 * between it and stdio. Each frame on stdin/stdout is a little-endian u32 length followed by
 * the frame bytes (Ethernet header onward, no FCS). Exits when stdin closes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_FRAME 65550

static int open_tap(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint8_t in_buf[2 * MAX_FRAME];
static size_t in_len;
static uint8_t out_buf[MAX_FRAME + 4];

/* Sends every complete frame buffered from stdin to the tap. */
static void flush_input(int tap) {
    size_t off = 0;
    while (in_len - off >= 4) {
        uint32_t len = (uint32_t)in_buf[off] | (uint32_t)in_buf[off + 1] << 8 |
                       (uint32_t)in_buf[off + 2] << 16 | (uint32_t)in_buf[off + 3] << 24;
        if (len > MAX_FRAME) {
            fprintf(stderr, "kiln-tap: bad frame length %u\n", len);
            _exit(2);
        }
        if (in_len - off - 4 < len) break;
        /* A tap write fails only for malformed frames; dropping them is what a NIC would do. */
        if (write(tap, in_buf + off + 4, len) < 0 && errno != EINVAL) perror("kiln-tap: write");
        off += 4 + len;
    }
    memmove(in_buf, in_buf + off, in_len - off);
    in_len -= off;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: kiln-tap TAPNAME\n");
        return 2;
    }
    int tap = open_tap(argv[1]);
    if (tap < 0) {
        perror("kiln-tap: open tap");
        return 1;
    }
    fprintf(stderr, "kiln-tap: %s open\n", argv[1]);
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = tap, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("kiln-tap: poll");
            return 1;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(0, in_buf + in_len, sizeof in_buf - in_len);
            if (r == 0) return 0;
            if (r < 0 && errno != EINTR && errno != EAGAIN) return 1;
            if (r > 0) {
                in_len += (size_t)r;
                flush_input(tap);
            }
        }
        if (fds[1].revents & POLLIN) {
            ssize_t r = read(tap, out_buf + 4, MAX_FRAME);
            if (r > 0) {
                uint32_t len = (uint32_t)r;
                out_buf[0] = (uint8_t)len;
                out_buf[1] = (uint8_t)(len >> 8);
                out_buf[2] = (uint8_t)(len >> 16);
                out_buf[3] = (uint8_t)(len >> 24);
                if (write_all(1, out_buf, len + 4) < 0) return 0;
            }
        }
    }
}
