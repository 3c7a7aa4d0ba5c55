// `ksemu tune`: tune a TV card to a channel or frequency, pick standard and input, scan, and report lock and signal.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { isTvStandardId, type FrequencyTableId, type HalDevice, type TvStandardId } from '@ksemu/hal';
import type { TunerGraph } from '@ksemu/minidriver-tuner';
import { CliError, ExitCode } from './cli-error.js';
import { driveClock, openCapture, type CaptureSession, type ClockMode } from './capture-session.js';
import type { DeviceCatalog } from './device-catalog.js';
import type { CliContext } from './cli-context.js';

/** Tuning requests shared by `tune` and `stream`. */
export interface TuneOptions {
  readonly channel?: string;
  readonly table?: FrequencyTableId;
  readonly frequency?: number;
  readonly standard?: TvStandardId;
  readonly input?: number;
}

const TABLES: readonly FrequencyTableId[] = [
  'us-broadcast',
  'us-cable',
  'europe-west',
  'europe-west-cable',
  'uk-broadcast',
  'europe-east',
  'france',
];

/** Adds --channel/--table/--frequency/--standard/--input to a command. */
export function addTuneOptions(cmd: Command): Command {
  return cmd
    .option('--channel <name>', 'TV channel of the frequency table, e.g. 4 or E21')
    .addOption(
      new Option('--table <id>', "frequency table (default: the card's first)").choices(TABLES as string[]),
    )
    .option('--frequency <hz>', 'video carrier frequency in Hz', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new InvalidArgumentError('--frequency must be a whole number of Hz');
      return n;
    })
    .option(
      '--standard <std>',
      'analog standard: NTSC-M, PAL-B, PAL-G, PAL-I, PAL-D, PAL-K, SECAM-L',
      (v: string) => {
        const s = v.toUpperCase();
        if (!isTvStandardId(s)) throw new InvalidArgumentError(`unknown standard '${v}'`);
        return s;
      },
    )
    .option('--input <n>', 'RF input: 0 antenna, 1 cable', (v: string) => {
      const n = Number(v);
      if (n !== 0 && n !== 1) throw new InvalidArgumentError('--input is 0 (antenna) or 1 (cable)');
      return n;
    });
}

/** True when any tuning option was given. */
export function wantsTuning(o: TuneOptions): boolean {
  return (
    o.channel !== undefined || o.frequency !== undefined || o.standard !== undefined || o.input !== undefined
  );
}

/** Status of the tuner as `tune` prints it. */
export interface TuneReport {
  readonly device: string;
  readonly standard: string | undefined;
  readonly frequencyHz: number;
  readonly channel?: string;
  readonly locked: boolean;
  readonly signalStrength: number;
}

async function waitForLock(graph: TunerGraph, session: CaptureSession): Promise<void> {
  // Lock comes a settle time after a tune; give it up to 2 s of device time.
  const deadline = (session.clock.now() as bigint) + 20_000_000n;
  for (;;) {
    const s = await graph.tuner.status();
    if (s.locked || (session.clock.now() as bigint) >= deadline) return;
    if (session.manualClock) session.manualClock.advance(100_000n);
    else await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Applies tuning options to an open tuner session and waits for lock.
 * @throws CliError Usage for a tuning option on a device that is not a tuner.
 */
export async function applyTuning(
  session: CaptureSession,
  o: TuneOptions,
  hal: HalDevice,
): Promise<string | undefined> {
  const deviceId = hal.identity.id;
  const graph = session.tuner;
  if (!graph) {
    if (wantsTuning(o))
      throw new CliError(
        `${deviceId} is not a TV tuner`,
        ExitCode.Usage,
        'tuning options work with tuner devices such as synthetic:tuner',
      );
    return undefined;
  }
  if (o.channel !== undefined && o.frequency !== undefined)
    throw new CliError('give --channel or --frequency, not both', ExitCode.Usage);
  if (o.input !== undefined) await graph.tuner.setInput(o.input);
  if (o.standard !== undefined) await graph.tuner.setStandard(o.standard);
  let channel: string | undefined;
  if (o.channel !== undefined) {
    const table = o.table ?? defaultTable(hal);
    await graph.tuner.tuneChannel(table, o.channel);
    channel = `${o.channel} (${table})`;
  } else if (o.frequency !== undefined) {
    await graph.tuner.setFrequency(o.frequency);
  }
  if (o.channel !== undefined || o.frequency !== undefined) await waitForLock(graph, session);
  return channel;
}

/** The card's first frequency table (what its antenna input is wired for). */
function defaultTable(hal: HalDevice): FrequencyTableId {
  const first = hal.capabilities.tuner?.frequencyTables[0];
  return (TABLES as readonly string[]).includes(first ?? '') ? (first as FrequencyTableId) : 'us-broadcast';
}

/** Registers `ksemu tune`. */
export function registerTuneCommand(program: Command, ctx: CliContext, catalog: DeviceCatalog): void {
  const cmd = program
    .command('tune')
    .description(
      'tune a TV card (channel, frequency, standard, input), scan for channels, show lock and signal',
    )
    .argument('<device>', 'tuner device id, e.g. synthetic:tuner');
  addTuneOptions(cmd)
    .option('--scan', 'scan the frequency table and list the channels that lock')
    .addOption(
      new Option(
        '--clock <mode>',
        'virtual settles instantly (synthetic devices); realtime waits like hardware',
      )
        .choices(['realtime', 'virtual'])
        .default(undefined),
    )
    .option('--json', 'print JSON')
    .action(async (id: string, opts: TuneOptions & { scan?: boolean; clock?: ClockMode; json?: boolean }) => {
      const { device: hal, id: parsed } = await catalog.find(id);
      if (hal.identity.kind !== 'tuner')
        throw new CliError(
          `${hal.identity.id} is not a TV tuner`,
          ExitCode.Usage,
          'run `ksemu list` to see tuner devices',
        );
      const clockMode: ClockMode = opts.clock ?? (parsed.kind === 'synthetic' ? 'virtual' : 'realtime');
      const session = await openCapture(hal, undefined, { clockMode, logger: ctx.logger });
      try {
        const graph = session.tuner;
        if (!graph) throw new CliError(`${hal.identity.id} has no tuner graph`, ExitCode.Failure);
        const channel = await applyTuning(session, opts, hal);
        if (opts.scan) {
          const table = opts.table ?? defaultTable(hal);
          const found = await driveClock(graph.tuner.scan({ table }), session.manualClock, 100_000n);
          if (opts.json) {
            ctx.stdout.write(
              JSON.stringify({ device: hal.identity.id, table, channels: found }, null, 2) + '\n',
            );
          } else {
            ctx.stdout.write(`${found.length} channels in ${table}:\n`);
            for (const c of found) {
              ctx.stdout.write(
                `  ${String(c.name ?? '?').padEnd(6)} ${(c.frequencyHz / 1e6).toFixed(2).padStart(8)} MHz  ${c.standard.padEnd(8)} signal ${c.signalStrength}\n`,
              );
            }
          }
          return;
        }
        const s = await graph.tuner.status();
        const report: TuneReport = {
          device: hal.identity.id,
          standard: await graph.tuner.standard(),
          frequencyHz: s.frequencyHz,
          ...(channel ? { channel } : {}),
          locked: s.locked,
          signalStrength: s.signalStrength,
        };
        if (opts.json) ctx.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else
          ctx.stdout.write(
            `${report.device}: ${channel ? `channel ${channel}, ` : ''}${(report.frequencyHz / 1e6).toFixed(2)} MHz, ${report.standard ?? 'unknown standard'}, ${report.locked ? 'locked' : 'no lock'}, signal ${report.signalStrength}\n`,
          );
        if ((opts.channel !== undefined || opts.frequency !== undefined) && !report.locked) {
          throw new CliError(
            `no signal at ${(report.frequencyHz / 1e6).toFixed(2)} MHz`,
            ExitCode.Failure,
            'run `ksemu tune <device> --scan` to find the channels that carry a picture',
          );
        }
      } finally {
        await session.close();
      }
    });
}
