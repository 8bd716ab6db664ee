// How a browser reads URLs: the WHATWG URL parser (Node's global URL class), one URL per input
// line (JSON strings), one JSON answer per line: the origin, or null when the parser refuses it.
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line) continue;
  let origin = null;
  try {
    origin = new URL(JSON.parse(line)).origin;
  } catch {
    origin = null;
  }
  process.stdout.write(JSON.stringify(origin) + "\n");
}
