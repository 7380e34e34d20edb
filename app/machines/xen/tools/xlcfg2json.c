/* xlcfg2json: reads an xl.cfg with libxl's own config parser (libxlutil) and prints the
 * libxl_domain_config it describes as libxl's JSON. No hypervisor is needed, so Kiln's tests can
 * prove that every config the Xen backend generates is one real `xl create` accepts.
 *
 * Handled keys (the ones Kiln generates): name, type, kernel, cmdline, memory, vcpus, vif, disk,
 * on_poweroff, on_reboot, on_crash. Any other key is an error, so a typo cannot pass silently.
 * Exit status: 0 parsed, 1 invalid config, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>

static const char *const known_keys[] = {"name", "type", "kernel", "cmdline", "memory", "vcpus", "vif",
                                         "disk", "on_poweroff", "on_reboot", "on_crash", NULL};

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "xlcfg2json: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Keys present in the file, found by scanning "key =" at line starts (libxlutil has no iterator). */
static int check_keys(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f)
        return fail("cannot open", path);
    while (fgets(line, sizeof line, f)) {
        char key[64];
        const char *const *k;
        if (sscanf(line, " %63[A-Za-z0-9_] =", key) != 1)
            continue;
        for (k = known_keys; *k; k++)
            if (!strcmp(*k, key))
                break;
        if (!*k) {
            fclose(f);
            return fail("unknown key", key);
        }
    }
    fclose(f);
    return 0;
}

static int parse_mac(const char *s, libxl_mac *mac)
{
    unsigned int b[6];
    int i;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6 || strlen(s) != 17)
        return -1;
    for (i = 0; i < 6; i++)
        (*mac)[i] = (uint8_t)b[i];
    return 0;
}

/* One vif spec: comma-separated key=value pairs (mac, bridge, model, type, script, ifname). */
static int parse_vif(char *spec, libxl_device_nic *nic, int devid)
{
    char *save = NULL, *tok;
    libxl_device_nic_init(nic);
    nic->devid = devid;
    for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq;
        while (*tok == ' ')
            tok++;
        eq = strchr(tok, '=');
        if (!eq)
            return fail("vif item without '='", tok);
        *eq++ = '\0';
        if (!strcmp(tok, "mac")) {
            if (parse_mac(eq, &nic->mac))
                return fail("bad vif mac", eq);
        } else if (!strcmp(tok, "bridge"))
            nic->bridge = strdup(eq);
        else if (!strcmp(tok, "model"))
            nic->model = strdup(eq);
        else if (!strcmp(tok, "script"))
            nic->script = strdup(eq);
        else if (!strcmp(tok, "ifname"))
            nic->ifname = strdup(eq);
        else if (!strcmp(tok, "type")) {
            if (libxl_nic_type_from_string(eq, &nic->nictype))
                return fail("bad vif type", eq);
        } else
            return fail("unknown vif key", tok);
    }
    return 0;
}

static int action(XLU_Config *cfg, const char *key, libxl_action_on_shutdown *out)
{
    const char *s;
    if (xlu_cfg_get_string(cfg, key, &s, 0))
        return 0;
    if (libxl_action_on_shutdown_from_string(s, out))
        return fail("bad action", s);
    return 0;
}

int main(int argc, char **argv)
{
    XLU_Config *cfg;
    XLU_ConfigList *list;
    libxl_domain_config dc;
    libxl_domain_type type;
    const char *s;
    long l;
    int n, i, rc = 0;
    char *json;

    if (argc != 2) {
        fprintf(stderr, "usage: xlcfg2json FILE.cfg\n");
        return 2;
    }
    if (check_keys(argv[1]))
        return 1;
    cfg = xlu_cfg_init(stderr, argv[1]);
    if (!cfg || xlu_cfg_readfile(cfg, argv[1]))
        return fail("syntax error in", argv[1]);

    libxl_domain_config_init(&dc);
    if (xlu_cfg_get_string(cfg, "type", &s, 0) || libxl_domain_type_from_string(s, &type))
        return fail("type missing or unknown", NULL);
    dc.c_info.type = type;
    libxl_domain_build_info_init_type(&dc.b_info, type);
    if (xlu_cfg_get_string(cfg, "name", &s, 0))
        return fail("name missing", NULL);
    dc.c_info.name = strdup(s);
    if (xlu_cfg_get_string(cfg, "kernel", &s, 0))
        return fail("kernel missing", NULL);
    dc.b_info.kernel = strdup(s);
    if (!xlu_cfg_get_string(cfg, "cmdline", &s, 0))
        dc.b_info.cmdline = strdup(s);
    if (xlu_cfg_get_long(cfg, "memory", &l, 0) || l <= 0)
        return fail("memory missing or not a positive number", NULL);
    dc.b_info.max_memkb = dc.b_info.target_memkb = (uint64_t)l * 1024;
    if (!xlu_cfg_get_long(cfg, "vcpus", &l, 0)) {
        if (l <= 0)
            return fail("vcpus must be positive", NULL);
        dc.b_info.max_vcpus = (int)l;
    }
    if (action(cfg, "on_poweroff", &dc.on_poweroff) || action(cfg, "on_reboot", &dc.on_reboot) ||
        action(cfg, "on_crash", &dc.on_crash))
        return 1;

    if (!xlu_cfg_get_list(cfg, "vif", &list, &n, 0)) {
        dc.nics = calloc((size_t)n, sizeof *dc.nics);
        dc.num_nics = n;
        for (i = 0; i < n; i++) {
            char *spec = strdup(xlu_cfg_get_listitem(list, i));
            rc = parse_vif(spec, &dc.nics[i], i);
            free(spec);
            if (rc)
                return 1;
        }
    }
    if (!xlu_cfg_get_list(cfg, "disk", &list, &n, 0)) {
        dc.disks = calloc((size_t)n, sizeof *dc.disks);
        dc.num_disks = n;
        for (i = 0; i < n; i++) {
            const char *spec = xlu_cfg_get_listitem(list, i);
            libxl_device_disk_init(&dc.disks[i]);
            /* libxl's own disk-spec parser, the one xl uses. */
            if (xlu_disk_parse(cfg, 1, &spec, &dc.disks[i]))
                return fail("bad disk spec", spec);
        }
    }

    json = libxl_domain_config_to_json(NULL, &dc);
    if (!json)
        return fail("libxl could not serialise the config", NULL);
    printf("%s\n", json);
    free(json);
    libxl_domain_config_dispose(&dc);
    xlu_cfg_destroy(cfg);
    return 0;
}
