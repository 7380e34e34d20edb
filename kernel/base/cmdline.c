/* key=value lookup in the boot command line (space separated words). */
#include "kbase.h"

int cmdline_get(const char *key, const char **value)
{
	const char *s = g_boot.cmdline;
	size_t klen = strlen(key);
	while (*s) {
		while (*s == ' ') s++;
		const char *w = s;
		while (*s && *s != ' ') s++;
		size_t wlen = (size_t)(s - w);
		if (wlen > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
			*value = w + klen + 1;
			return (int)(wlen - klen - 1);
		}
		if (wlen == klen && strncmp(w, key, klen) == 0) {
			*value = w + klen;
			return 0;
		}
	}
	return -1;
}
