// The appliance's virtio-blk / Xen disk (the `block_*` imports) as a BlockDevice for the log.

import { blockCount, blockInfo, blockRead, blockWrite, OK } from '../sys';
import { BlockDevice } from './aof';

export class KilnBlockDevice extends BlockDevice {
  handle: i32;
  cap: i64;
  bs: i32;

  constructor(handle: i32) {
    super();
    this.handle = handle;
    const info = blockInfo(handle);
    this.cap = <i64>info.capacity;
    this.bs = <i32>info.blockSize;
  }

  /** The first disk, or null when none is attached. */
  static first(): KilnBlockDevice | null {
    return blockCount() > 0 ? new KilnBlockDevice(0) : null;
  }

  capacity(): i64 {
    return this.cap;
  }
  blockSize(): i32 {
    return this.bs;
  }
  read(offset: i64, buf: Uint8Array): bool {
    return blockRead(this.handle, offset, buf) == OK;
  }
  write(offset: i64, buf: Uint8Array): bool {
    return blockWrite(this.handle, offset, buf) == OK;
  }
}
