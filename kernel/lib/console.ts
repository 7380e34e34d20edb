// Console output through kiln.console_write.
import { consoleWrite } from "./sys";

export function printRaw(s: string): void {
  consoleWrite(Uint8Array.wrap(String.UTF8.encode(s)));
}

export function print(s: string): void {
  printRaw(s + "\n");
}

export function printBytes(b: Uint8Array): void {
  consoleWrite(b);
}
