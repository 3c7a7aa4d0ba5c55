// Public entry point of @ksemu/cli: run the ksemu command line in-process (tests, embedding).
export { runCli, buildProgram, processLogger, type CliContext } from './program.js';
export { ExitCode, CliError } from './cli-error.js';
export { parseDeviceId, type DeviceId } from './device-id.js';
export { parseFormatSpec, type FormatSpec } from './format-spec.js';
