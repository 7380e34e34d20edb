// hello: prints the configured greeting `repeat` times, then exits with status 0.
import { print } from "kiln/console";
import { Config } from "kiln/config";

export function main(): i32 {
  const cfg = Config.load();
  const greeting = cfg.str("greeting", "Hello from Kiln");
  let repeat = cfg.int("repeat", 1);
  if (repeat < 1) repeat = 1;
  if (repeat > 1000) repeat = 1000;
  for (let i: i64 = 0; i < repeat; i++) print(greeting);
  print("kiln: ready");
  return 0;
}
