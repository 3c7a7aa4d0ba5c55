// The `ksemu` command line: commands, options and their wiring to the device catalog and capture sessions.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { parseUvcConfiguration, type HalDevice } from '@ksemu/hal';
import { formatDescription, describeDevice } from '@ksemu/minidriver-webcam';
import {
  parseFrameList,
  recordGolden,
  verifyGolden,
  readGoldenManifest,
  type GoldenFrame,
} from '@ksemu/fixtures';
import { CliError, ExitCode, formatCliError, toCliError } from './cli-error.js';
import { DeviceCatalog } from './device-catalog.js';
import { openCapture, createKsDevice, formatLabel, type ClockMode } from './capture-session.js';
import { parseFormatSpec, intervalToFps, type FormatSpec } from './format-spec.js';
import { openSink } from './frame-sink.js';
import { pumpFrames } from './frame-pump.js';
import { ProgressBar } from './progress-bar.js';
import { StreamStats, formatSummary, type StreamSummary } from './stream-stats.js';
import { findProperty, listProperties, parsePropertyValue } from './property-commands.js';
import { SystemClock, FrameStatus } from '@ksemu/ks-core';
import { usbProviders } from './usb-support.js';
import { VERSION } from './version.js';
import { registerServeUsbipCommand } from './serve-usbip-command.js';
import { registerViewCommand } from './view-command.js';
import type { CliContext } from './cli-context.js';
import { addTuneOptions, applyTuning, registerTuneCommand, type TuneOptions } from './tune-command.js';

export type { CliContext } from './cli-context.js';

const positiveInt =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number ≥ 1`);
    return n;
  };
const positiveNumber =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a positive number`);
    return n;
  };
const formatOption = (v: string): FormatSpec => {
  try {
    return parseFormatSpec(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

function json(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n',
  );
}

function deviceBrief(d: HalDevice): Record<string, unknown> {
  const caps = d.capabilities;
  const fourccs = caps.video.map((v) => v.fourcc);
  const sizes = caps.video.flatMap((v) => v.sizes.map((s) => s.width * s.height));
  const largest = caps.video
    .flatMap((v) => v.sizes)
    .sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const fastest = caps.video
    .flatMap((v) => v.sizes.flatMap((s) => s.intervals))
    .reduce<bigint | undefined>((m, i) => (m === undefined || i < m ? i : m), undefined);
  return {
    id: d.identity.id,
    kind: d.identity.kind,
    name: d.identity.name,
    vendorId: d.identity.vendorId.toString(16).padStart(4, '0'),
    productId: d.identity.productId.toString(16).padStart(4, '0'),
    location: d.identity.location,
    formats: fourccs,
    sizes: sizes.length,
    largest: largest ? `${largest.width}x${largest.height}` : undefined,
    maxFps: fastest ? intervalToFps(fastest) : undefined,
    controls: caps.controls.map((c) => c.id),
    ...(caps.tuner ? { tuner: { standards: caps.tuner.standards, tables: caps.tuner.frequencyTables } } : {}),
  };
}

/** Builds the program. `run` resolves to the exit code. */
export function buildProgram(ctx: CliContext): { program: Command; exitCode: () => ExitCode } {
  let exitCode: ExitCode = ExitCode.Ok;
  const program = new Command('ksemu')
    .description(
      'AVStream kernel streaming, emulated: stream, inspect and test capture devices (synthetic or USB UVC)',
    )
    .version(VERSION)
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .option(
      '--detach-kernel-driver',
      'let ksemu take a USB camera from the kernel driver (uvcvideo) and give it back when done',
    )
    .exitOverride()
    .showSuggestionAfterError(true);
  const catalog = new DeviceCatalog(
    ctx.logger,
    usbProviders(ctx.logger, () => ({
      detachKernelDriver:
        program.opts<{ detachKernelDriver?: boolean }>().detachKernelDriver === true ||
        process.env.KSEMU_DETACH_KERNEL_DRIVER === '1',
    })),
  );

  program
    .command('list')
    .description('list synthetic devices and the USB UVC cameras present')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const devices = await catalog.list();
      const rows = devices.map(deviceBrief);
      if (opts.json) return json(ctx, rows);
      for (const r of rows) {
        const formats = (r.formats as string[]).join(',');
        ctx.stdout.write(
          `${String(r.id).padEnd(24)} ${String(r.kind).padEnd(12)} ${String(r.name).padEnd(28)} ${formats}${r.largest ? ` up to ${String(r.largest)}` : ''}${r.maxFps ? ` @${String(r.maxFps)}fps` : ''}\n`,
        );
      }
      if (rows.length === 0) ctx.stdout.write('no devices\n');
    });

  program
    .command('describe')
    .description(
      'filter factories, pins, data ranges, property sets, topology nodes and connections of a device',
    )
    .argument('<device>', 'device id, e.g. synthetic:camera or usb:046d:0825')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { device: hal } = await catalog.find(id);
      const ks = createKsDevice(hal, new SystemClock(), ctx.logger);
      try {
        await ks.createFilter(0);
        const d = describeDevice(ks);
        if (opts.json) json(ctx, d);
        else ctx.stdout.write(formatDescription(d) + '\n');
      } finally {
        await ks.close();
      }
    });

  const streamCommand = program
    .command('stream')
    .description('capture frames to a .y4m/.avi/.mjpeg file, a directory, or stdout, and print a summary')
    .argument('<device>', 'device id')
    .option('-f, --format <FOURCC:WxH@FPS>', 'capture format, e.g. YUY2:1280x720@30', formatOption)
    .option('-n, --frames <N>', 'stop after N frames', positiveInt('--frames'))
    .option('-d, --duration <S>', 'stop after S seconds of stream time', positiveNumber('--duration'))
    .option('-o, --out <X>', 'file.y4m | file.mjpeg | directory/ | - (stdout)')
    .option('--png', 'with a directory: write PNG images instead of raw frames')
    .addOption(
      new Option(
        '--clock <mode>',
        'realtime paces frames like hardware; virtual runs as fast as possible, bit-exact',
      )
        .choices(['realtime', 'virtual'])
        .default('realtime'),
    )
    .option('--json', 'print the summary as JSON');
  addTuneOptions(streamCommand).action(
    async (
      id: string,
      opts: TuneOptions & {
        format?: FormatSpec;
        frames?: number;
        duration?: number;
        out?: string;
        png?: boolean;
        clock: ClockMode;
        json?: boolean;
      },
    ) => {
      if (opts.frames !== undefined && opts.duration !== undefined) {
        throw new CliError('give --frames or --duration, not both', ExitCode.Usage);
      }
      const { device: hal, id: parsed } = await catalog.find(id);
      if (opts.clock === 'virtual' && parsed.kind !== 'synthetic') {
        throw new CliError('--clock virtual works with synthetic devices only', ExitCode.Usage);
      }
      const session = await openCapture(hal, opts.format, { clockMode: opts.clock, logger: ctx.logger });
      try {
        await applyTuning(session, opts, hal);
        const fmt = session.format;
        const sink = await openSink(
          opts.out,
          {
            fourcc: session.fourcc,
            width: fmt.width,
            height: fmt.height,
            interval: fmt.frameInterval as bigint,
          },
          opts.png === true,
        );
        const info = sink.usesStdout ? ctx.stderr : ctx.stdout;
        const stats = new StreamStats(opts.frames ?? 1024);
        const progress = new ProgressBar(process.stderr, opts.frames, `streaming ${formatLabel(fmt)}`);
        const wallStart = process.hrtime.bigint();
        const result = await pumpFrames(session, {
          ...(opts.frames !== undefined ? { frames: opts.frames } : {}),
          ...(opts.duration !== undefined ? { duration: BigInt(Math.round(opts.duration * 1e7)) } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onFrame: async (frame) => {
            const latency = Number((session.clock.now() as bigint) - frame.presentationTime) / 1e4;
            const bytes = frame.bytesUsed;
            await sink.write(frame.data.subarray(0, bytes), frame.sequence);
            stats.record(Math.max(0, latency), bytes, 0, frame.status !== FrameStatus.Success);
            stats.drops = frame.dropCount;
            const secs = Number(process.hrtime.bigint() - wallStart) / 1e9;
            progress.update(
              stats.frames,
              secs * 1000,
              `${(stats.frames / Math.max(secs, 1e-9)).toFixed(1)} fps, ${stats.drops} drops`,
            );
          },
        });
        progress.finish();
        await sink.close();
        const seconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
        const summary: StreamSummary = {
          device: hal.identity.id,
          format: formatLabel(fmt),
          frames: stats.frames,
          drops: stats.drops,
          errors: stats.errors,
          seconds,
          fps: stats.frames / Math.max(seconds, 1e-9),
          nominalFps: 1e7 / Number(fmt.frameInterval),
          latencyMs: stats.percentiles(),
          bytes: stats.bytes,
          output: sink.label,
          stoppedBy: result.end === 'done' ? 'count' : result.end,
        };
        if (opts.json) info.write(JSON.stringify(summary) + '\n');
        else info.write(formatSummary(summary) + '\n');
        if (result.error !== undefined) throw toCliError(result.error);
      } finally {
        await session.close();
      }
    },
  );

  program
    .command('props')
    .description('list, get or set a device property (VideoProcAmp, CameraControl, …)')
    .argument('<device>', 'device id')
    .argument('[action]', 'list | get | set', 'list')
    .argument('[name]', 'property name, e.g. brightness (name@node for a topology node)')
    .argument('[value]', 'value for set (a number, on/off, or auto)')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string,
        action: string,
        name: string | undefined,
        value: string | undefined,
        opts: { json?: boolean },
      ) => {
        const { device: hal } = await catalog.find(id);
        const ks = createKsDevice(hal, new SystemClock(), ctx.logger);
        try {
          const filter = await ks.createFilter(0);
          if (action === 'list') {
            const rows = await listProperties(filter);
            if (opts.json) return json(ctx, rows);
            for (const r of rows) {
              const range =
                r.min !== undefined ? ` [${r.min}..${r.max}${r.step ? ` step ${r.step}` : ''}]` : '';
              const node = r.node !== undefined ? `@${r.node}` : '';
              ctx.stdout.write(
                `${(r.name + node).padEnd(28)} ${String(r.value ?? r.error ?? '').padEnd(10)}${r.mode ? ` (${r.mode})` : ''}${range}${r.default !== undefined ? ` default ${r.default}` : ''} ${r.access}\n`,
              );
            }
            return;
          }
          if (!name) throw new CliError(`props ${action} needs a property name`, ExitCode.Usage);
          const p = findProperty(filter, name);
          const address = p.node === undefined ? {} : { node: p.node };
          if (action === 'get') {
            const c = await filter.properties.getControl(p.set, p.id, address);
            if (opts.json) return json(ctx, { name: p.name, node: p.node, value: c.value, mode: c.mode });
            ctx.stdout.write(`${String(c.value)}${c.mode ? ` (${c.mode})` : ''}\n`);
            return;
          }
          if (action === 'set') {
            if (value === undefined) throw new CliError('props set needs a value', ExitCode.Usage);
            const d = filter.properties.basicSupport(p.set, p.id, address);
            const parsed = parsePropertyValue(d.type, value);
            const current =
              parsed.value === undefined
                ? (await filter.properties.getControl(p.set, p.id, address)).value
                : parsed.value;
            await filter.properties.set(p.set, p.id, current, {
              ...address,
              ...(parsed.mode
                ? { mode: parsed.mode }
                : d.modes?.includes('manual')
                  ? { mode: 'manual' as const }
                  : {}),
            });
            const c = await filter.properties.getControl(p.set, p.id, address);
            if (opts.json) return json(ctx, { name: p.name, node: p.node, value: c.value, mode: c.mode });
            ctx.stdout.write(`${p.name} = ${String(c.value)}${c.mode ? ` (${c.mode})` : ''}\n`);
            return;
          }
          throw new CliError(`unknown props action '${action}'`, ExitCode.Usage, 'use list, get or set');
        } finally {
          await ks.close();
        }
      },
    );

  program
    .command('record-golden')
    .description('record golden frames: raw files, manifest.json with sha256, PNG previews')
    .argument('<device>', 'synthetic device id, e.g. synthetic:camera?pattern=smpte&seed=1')
    .requiredOption('--frames <LIST>', 'frame indices, e.g. 0,1,2,30-32,100')
    .requiredOption('-f, --format <FOURCC:WxH@FPS>', 'capture format', formatOption)
    .requiredOption('-o, --out <DIR>', 'output directory, e.g. fixtures/golden/camera/yuy2-640x480')
    .option('--no-previews', 'skip PNG previews')
    .option('--json', 'print the manifest as JSON')
    .action(
      async (
        id: string,
        opts: { frames: string; format: FormatSpec; out: string; previews: boolean; json?: boolean },
      ) => {
        const indices = parseFrameList(opts.frames);
        const { device: hal, id: parsed } = await catalog.find(id);
        if (parsed.kind !== 'synthetic') {
          throw new CliError(
            'golden frames are recorded from synthetic devices (their output is a pure function of the frame index)',
            ExitCode.Usage,
          );
        }
        const session = await openCapture(hal, opts.format, { clockMode: 'virtual', logger: ctx.logger });
        try {
          const fmt = session.format;
          const manifest = await recordGolden(
            opts.out,
            {
              tool: `ksemu ${VERSION}`,
              device: parsed.text,
              fourcc: session.fourcc,
              width: fmt.width,
              height: fmt.height,
              interval: fmt.frameInterval as bigint,
              ...(parsed.query.pattern ? { pattern: parsed.query.pattern } : {}),
              ...(parsed.query.seed ? { seed: Number(parsed.query.seed) } : {}),
              previews: opts.previews,
            },
            captureIndices(session, indices),
          );
          if (opts.json) json(ctx, manifest);
          else
            ctx.stdout.write(
              `recorded ${manifest.frames.length} frames of ${formatLabel(fmt)} into ${opts.out}\n`,
            );
        } finally {
          await session.close();
        }
      },
    );

  program
    .command('verify-golden')
    .description('re-render the frames of a golden directory and compare bytes; exit code 4 on a mismatch')
    .argument('<dir>', 'golden directory with manifest.json')
    .option('--diff-dir <DIR>', 'where diff images go (default <dir>/diff)')
    .option('--json', 'print the verdict as JSON')
    .action(async (dir: string, opts: { diffDir?: string; json?: boolean }) => {
      const manifest = await readGoldenManifest(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          throw new CliError(
            `no manifest.json in ${dir}`,
            ExitCode.NotFound,
            'record one first with `ksemu record-golden`',
            { cause: err },
          );
        }
        throw new CliError(`${dir}: ${err.message}`, ExitCode.Usage, undefined, { cause: err });
      });
      const { device: hal } = await catalog.find(manifest.device);
      const f = manifest.format;
      const spec: FormatSpec = {
        fourcc: f.fourcc,
        width: f.width,
        height: f.height,
        interval: BigInt(f.interval),
      };
      const session = await openCapture(hal, spec, { clockMode: 'virtual', logger: ctx.logger });
      let verdict;
      try {
        verdict = await verifyGolden(dir, (idx) => captureIndices(session, idx), {
          diffDir: opts.diffDir ?? join(dir, 'diff'),
        });
      } finally {
        await session.close();
      }
      if (opts.json) json(ctx, { pass: verdict.pass, frames: verdict.frames });
      else {
        for (const r of verdict.frames) {
          if (r.ok) continue;
          const d = r.firstDifference;
          ctx.stdout.write(
            d
              ? `frame ${r.index}: differs first at byte ${d.byte} (x=${d.x}, y=${d.y}, plane ${d.plane}: expected ${d.expected}, got ${d.actual}); PSNR ${r.psnr.toFixed(2)} dB${r.diffImage ? `; diff ${r.diffImage}` : ''}\n`
              : `frame ${r.index}: not produced\n`,
          );
        }
        const bad = verdict.frames.filter((r) => !r.ok).length;
        ctx.stdout.write(
          bad
            ? `FAIL: ${bad} of ${verdict.frames.length} frames differ\n`
            : `PASS: ${verdict.frames.length} frames match\n`,
        );
      }
      if (!verdict.pass) exitCode = ExitCode.Mismatch;
    });

  const uvc = program.command('uvc').description('UVC protocol tools');
  uvc
    .command('parse')
    .description('parse a USB configuration descriptor dump of a UVC camera')
    .argument('<config.bin>', 'raw configuration descriptor bytes')
    .option('--json', 'print JSON (the default)')
    .action(async (file: string) => {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`, ExitCode.NotFound, undefined, {
          cause: err,
        });
      }
      json(ctx, parseUvcConfiguration(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
    });

  registerTuneCommand(program, ctx, catalog);
  registerViewCommand(program, ctx, catalog);
  registerServeUsbipCommand(program, ctx, catalog);
  return { program, exitCode: () => exitCode };
}

/** Streams from a virtual-clock session and yields the frames whose index is listed. */
async function* captureIndices(
  session: Awaited<ReturnType<typeof openCapture>>,
  indices: readonly number[],
): AsyncIterable<GoldenFrame> {
  const wanted = new Set(indices);
  const last = Math.max(...indices);
  const got: GoldenFrame[] = [];
  let lastSeen = -1;
  const result = await pumpFrames(session, {
    onFrame: (frame) => {
      const index = frame.sequence;
      lastSeen = index;
      if (wanted.has(index)) got.push({ index, data: frame.data.slice(0, frame.bytesUsed) });
      return index < last;
    },
  });
  if (result.error !== undefined) throw result.error;
  if (got.length < wanted.size) {
    const missing = indices.filter((i) => !got.some((g) => g.index === i));
    throw new CliError(
      `frames ${missing.join(',')} were not delivered (last frame seen: ${lastSeen})`,
      ExitCode.Failure,
    );
  }
  yield* got;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const { program, exitCode } = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return 0;
      return ExitCode.Usage;
    }
    const e = toCliError(err);
    ctx.stderr.write(formatCliError(e));
    return e.exitCode;
  }
}

/** The process logger: warnings and up to stderr, or what KSEMU_LOG_LEVEL says. */
export function processLogger(): Logger {
  return pino({ level: process.env.KSEMU_LOG_LEVEL ?? 'warn', base: undefined }, pino.destination(2));
}
