#!/usr/bin/env node
// Reads JSON lines from stdin, each {"id": "...", "latex": "..."}, and renders
// every LaTeX string with KaTeX in strict mode (warnings are errors,
// throwOnError: true). Prints one JSON line per failure:
//   {"id": "...", "latex": "...", "error": "..."}
// and a final summary line {"checked": N, "failed": M}. Exits 1 when any
// string fails, 2 on malformed input.
"use strict";

const katex = require("katex");
const readline = require("readline");

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let checked = 0;
let failed = 0;
let malformed = false;

rl.on("line", (line) => {
  if (line.trim() === "") return;
  let item;
  try {
    item = JSON.parse(line);
  } catch (e) {
    malformed = true;
    console.log(JSON.stringify({ id: null, latex: line, error: "input is not JSON: " + e.message }));
    return;
  }
  if (typeof item.latex !== "string") {
    malformed = true;
    console.log(JSON.stringify({ id: item.id ?? null, latex: null, error: "missing \"latex\" string" }));
    return;
  }
  checked += 1;
  try {
    katex.renderToString(item.latex, {
      displayMode: true,
      throwOnError: true,
      strict: "error",
      trust: false,
    });
  } catch (e) {
    failed += 1;
    console.log(JSON.stringify({ id: item.id ?? null, latex: item.latex, error: String(e.message || e) }));
  }
});

rl.on("close", () => {
  console.log(JSON.stringify({ checked, failed, katex: katex.version }));
  process.exit(malformed ? 2 : failed > 0 ? 1 : 0);
});
