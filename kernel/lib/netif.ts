// The interface's IPv4 configuration (set statically or by DHCP).
export class IfConfig {
  ip: u32 = 0;
  mask: u32 = 0;
  gateway: u32 = 0;
  hostname: string = "kiln";
}
export const ifc = new IfConfig();

export function isBroadcastFor(dst: u32): bool {
  if (dst == 0xffffffff) return true;
  return ifc.mask != 0 && ifc.mask != 0xffffffff && (dst & ~ifc.mask) == ~ifc.mask && (dst & ifc.mask) == (ifc.ip & ifc.mask);
}

export function onLink(dst: u32): bool {
  return (dst & ifc.mask) == (ifc.ip & ifc.mask);
}
