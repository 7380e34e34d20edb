#ifndef VIRTIO_H
#define VIRTIO_H
void virtio_mmio_probe_cmdline(void);
void virtio_pci_probe(void);
#endif
