// Finds HAL devices by the ids users type: synthetic devices (with ?query options) and USB cameras.
import {
  BUILT_IN_SYNTHETIC_KINDS,
  Enumerator,
  PATTERN_KINDS,
  isPatternKind,
  type DeviceProvider,
  type HalDevice,
} from '@ksemu/hal';
import type { Logger } from 'pino';
import { CliError, ExitCode } from './cli-error.js';
import { parseDeviceId, type DeviceId } from './device-id.js';

/** The synthetic devices `ksemu list` shows, in order. */
export const DEFAULT_SYNTHETIC = ['camera', 'pcie', 'tuner'] as const;

/** Short names users type (the ARCHITECTURE's `?pattern=smpte`) for the HAL's pattern kinds. */
const PATTERN_ALIASES: Readonly<Record<string, string>> = {
  smpte: 'smpte-bars',
  bars: 'smpte-bars',
  box: 'moving-box',
  ball: 'moving-box',
  snow: 'noise',
  checkers: 'checkerboard',
};

const BOOL = new Set(['1', 'true', 'yes', 'on']);

/** Turns `?pattern=smpte&seed=1&overlay=0` into the options a synthetic factory takes. */
export function syntheticOptions(
  kind: string,
  query: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    switch (key) {
      case 'seed': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0)
          throw new RangeError(`seed must be a whole number ≥ 0, got '${value}'`);
        out.seed = n;
        break;
      }
      case 'pattern': {
        const pattern = PATTERN_ALIASES[value] ?? value;
        if (!isPatternKind(pattern)) {
          throw new RangeError(
            `unknown pattern '${value}' (known: ${PATTERN_KINDS.join(', ')}; aliases ${Object.keys(PATTERN_ALIASES).join(', ')})`,
          );
        }
        out.pattern = pattern;
        break;
      }
      case 'overlay':
        out.overlay = BOOL.has(value.toLowerCase());
        break;
      case 'serial':
      case 'name':
        out[key] = value;
        break;
      default:
        throw new RangeError(
          `unknown option '${key}' for synthetic:${kind} (known: pattern, seed, overlay, serial, name)`,
        );
    }
  }
  return out;
}

/** Lists and opens devices; `providers` add non-synthetic buses (USB). */
export class DeviceCatalog {
  constructor(
    private readonly logger: Logger,
    private readonly providers: readonly DeviceProvider[] = [],
  ) {}

  /** Every device present: the default synthetic ones, then each provider's. */
  async list(): Promise<HalDevice[]> {
    const enumerator = this.enumerator(
      DEFAULT_SYNTHETIC.filter((k) => k in BUILT_IN_SYNTHETIC_KINDS).map((kind) => ({ kind })),
    );
    try {
      return await enumerator.list();
    } finally {
      enumerator.dispose();
    }
  }

  /**
   * The device an id names, made fresh (synthetic devices get the id's query options).
   * @throws CliError NotFound/Usage with the reason.
   */
  async find(text: string): Promise<{ device: HalDevice; id: DeviceId }> {
    let id: DeviceId;
    try {
      id = parseDeviceId(text);
    } catch (err) {
      throw new CliError((err as Error).message, ExitCode.Usage, undefined, { cause: err });
    }
    if (id.kind === 'synthetic') {
      if (!(id.device in BUILT_IN_SYNTHETIC_KINDS)) {
        throw new CliError(
          `no synthetic device '${id.device}'`,
          ExitCode.NotFound,
          `synthetic devices: ${Object.keys(BUILT_IN_SYNTHETIC_KINDS)
            .map((k) => `synthetic:${k}`)
            .join(', ')}`,
        );
      }
      const enumerator = this.enumerator([
        { kind: id.device, options: syntheticOptions(id.device, id.query) },
      ]);
      const device = await enumerator.find(`synthetic:${id.device}`);
      enumerator.dispose();
      return { device, id };
    }
    const enumerator = this.enumerator([]);
    try {
      const devices = await enumerator.list();
      const found = devices.find((d) => {
        const ident = d.identity;
        if (id.kind === 'usb-id') {
          return (
            ident.vendorId === id.vendorId &&
            ident.productId === id.productId &&
            (id.serial === undefined || ident.serial === id.serial)
          );
        }
        return ident.location === `usb:${id.bus}-${id.ports.join('.')}`;
      });
      if (!found) {
        throw new CliError(
          `no USB camera matches '${text}'`,
          ExitCode.NotFound,
          this.providers.length
            ? 'run `ksemu list` to see the cameras present'
            : 'USB support is not available on this machine',
        );
      }
      return { device: found, id };
    } finally {
      enumerator.dispose();
    }
  }

  private enumerator(synthetic: ReadonlyArray<{ kind: string; options?: unknown }>): Enumerator {
    const e = new Enumerator({ synthetic, logger: this.logger }, BUILT_IN_SYNTHETIC_KINDS);
    for (const p of this.providers) e.registerProvider(p);
    return e;
  }
}
