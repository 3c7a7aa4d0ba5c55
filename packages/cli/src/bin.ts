#!/usr/bin/env node
// The `ksemu` executable: runs the CLI on process argv, stops cleanly on Ctrl-C, exits with its code.
import { processLogger, runCli } from './program.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C stops streaming cleanly (every buffer returned); a second one quits at once.
  if (++interrupts > 1) process.exit(130);
  controller.abort();
});
process.on('SIGTERM', () => controller.abort());
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // A closed pipe (`ksemu stream … -o - | head`) ends the stream quietly.
  if (err.code === 'EPIPE') controller.abort();
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  logger: processLogger(),
  signal: controller.signal,
});
process.exitCode = code;
