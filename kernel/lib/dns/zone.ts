// A zone as the server holds it: every owner name with its records. It is made from master-file
// text by zone-parser.ts (at build time, zone-compiler.ts) or loaded from its compiled binary
// form by zone-blob.ts (in the appliance).

import { Record } from './records';
import { isSubdomain, parentName } from './name';

export class Zone {
  apex: string = '';
  soa: Record | null = null;
  /** Every owner name of the zone, plus empty non-terminals (with no records). */
  nodes: Map<string, Record[]> = new Map<string, Record[]>();
  recordCount: i32 = 0;

  has(name: string): bool {
    return this.nodes.has(name);
  }

  recordsAt(name: string): Record[] {
    return this.nodes.has(name) ? this.nodes.get(name) : new Array<Record>(0);
  }

  add(r: Record): void {
    if (!this.nodes.has(r.owner)) this.nodes.set(r.owner, new Array<Record>());
    this.nodes.get(r.owner).push(r);
    this.recordCount++;
  }

  /** Adds the empty non-terminals between each owner and the apex, so they answer NODATA. */
  addEmptyNonTerminals(): void {
    const owners = this.nodes.keys();
    for (let i = 0; i < owners.length; i++) {
      let n = parentName(unchecked(owners[i]));
      while (n.length >= this.apex.length && isSubdomain(n, this.apex) && !this.nodes.has(n)) {
        this.nodes.set(n, new Array<Record>());
        if (n.length == 0) break;
        n = parentName(n);
      }
    }
  }
}

export class ZoneResult {
  zone: Zone | null = null;
  error: string = '';
}

