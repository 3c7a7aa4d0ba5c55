#!/usr/bin/env node
// The `ksemu` executable: runs the CLI on process argv, stops cleanly on Ctrl-C, exits with its code.
import { processLogger, runCli } from './program.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (code: number) => (): void => {
  // The first Ctrl-C/SIGTERM stops streaming cleanly (every buffer returned); a second one quits at once.
  if (++interrupts > 1) process.exit(code);
  controller.abort();
};
process.on('SIGINT', onSignal(130));
process.on('SIGTERM', onSignal(143));
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
