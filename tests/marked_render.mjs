// Renders Markdown with marked as JupyterLab does for trusted text/markdown: GFM on, no
// sanitizer. One request per line on stdin ({"markdown": ...}), one {"html": ...} per line out,
// so a test session starts node once.
import { createInterface } from "node:readline";
import { Marked } from "../js/node_modules/marked/lib/marked.esm.js";

const marked = new Marked({ gfm: true });
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let reply;
  try {
    reply = { html: marked.parse(JSON.parse(line).markdown, { async: false }) };
  } catch (error) {
    reply = { error: String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
