// Lists hal devices: synthetic ones from a typed config plus registered providers (USB), with hotplug.
import type { Logger } from 'pino';
import { EventHub, type EventSource } from './event-hub.js';
import { HalError, HalErrorCode } from './hal-error.js';
import type { HalDevice } from './hal-device.js';
import { silentLogger } from './silent-logger.js';

/** One synthetic device in an {@link EnumeratorConfig}. `kind` picks a registered factory. */
export interface SyntheticDeviceConfig {
  /** Factory name: 'camera' is built in; others ('pcie', 'tuner') are registered by their modules. */
  readonly kind: string;
  /** Device id; default `synthetic:<kind>` (must be unique). */
  readonly id?: string;
  /** Factory-specific options (e.g. `SyntheticCameraOptions`). */
  readonly options?: unknown;
}

/** Makes a synthetic device from its config entry. Throws TypeError/RangeError for bad options. */
export type SyntheticDeviceFactory = (
  entry: SyntheticDeviceConfig & { readonly id: string },
  logger: Logger,
) => HalDevice;

/** A source of non-synthetic devices (e.g. the USB enumerator). */
export interface DeviceProvider {
  /** Short name for logs ('usb'). */
  readonly name: string;
  /** Devices present now. */
  list(): Promise<readonly HalDevice[]>;
  /**
   * Optional hotplug: the provider calls `added`/`removed` as devices come and go. Returns an
   * unsubscribe function.
   */
  watch?(listener: { added(device: HalDevice): void; removed(id: string): void }): () => void;
}

/** Configuration of an {@link Enumerator}. */
export interface EnumeratorConfig {
  /** Synthetic devices to list, in order. Default: none. */
  readonly synthetic?: readonly SyntheticDeviceConfig[];
  /** Factories by kind, in addition to the built-in ones given to the constructor. */
  readonly factories?: Readonly<Record<string, SyntheticDeviceFactory>>;
  readonly logger?: Logger;
}

/** Hotplug events of an {@link Enumerator}. */
export type EnumeratorEvents = {
  add: [device: HalDevice];
  remove: [id: string];
};

/**
 * The device list. Pass `BUILT_IN_SYNTHETIC_KINDS` (synthetic-kinds.ts) as `builtInFactories` for
 * the camera, PCIe card and tuner (kept out of this module to avoid an import cycle). Synthetic devices are made once (at construction or `addSynthetic`) and
 * listed until removed; providers are asked on each `list()`. `add`/`remove` events fire for
 * `addSynthetic`/`removeSynthetic` and for provider hotplug.
 */
export class Enumerator implements EventSource<EnumeratorEvents> {
  private readonly logger: Logger;
  private readonly events: EventHub<EnumeratorEvents>;
  private readonly factories = new Map<string, SyntheticDeviceFactory>();
  private readonly synthetic = new Map<string, HalDevice>();
  private readonly providers = new Map<DeviceProvider, (() => void) | undefined>();

  constructor(
    config: EnumeratorConfig = {},
    builtInFactories: Readonly<Record<string, SyntheticDeviceFactory>> = {},
  ) {
    this.logger = (config.logger ?? silentLogger()).child({ component: 'enumerator' });
    this.events = new EventHub(this.logger);
    for (const [kind, f] of Object.entries({ ...builtInFactories, ...(config.factories ?? {}) })) {
      this.registerSyntheticKind(kind, f);
    }
    for (const entry of config.synthetic ?? []) this.make(entry);
  }

  on<K extends keyof EnumeratorEvents & string>(
    event: K,
    listener: (...args: EnumeratorEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof EnumeratorEvents & string>(
    event: K,
    listener: (...args: EnumeratorEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  /** Registers (or replaces) the factory for a synthetic kind. */
  registerSyntheticKind(kind: string, factory: SyntheticDeviceFactory): void {
    if (typeof kind !== 'string' || kind.length === 0) throw new TypeError('kind must be a non-empty string');
    if (typeof factory !== 'function') throw new TypeError('factory must be a function');
    this.factories.set(kind, factory);
  }

  /** Kinds that `addSynthetic` accepts. */
  get syntheticKinds(): readonly string[] {
    return [...this.factories.keys()];
  }

  /**
   * Makes and lists a synthetic device, emitting `add`.
   * @throws HalError(NotFound) for an unregistered kind; HalError(Busy) for a duplicate id.
   */
  addSynthetic(entry: SyntheticDeviceConfig): HalDevice {
    const device = this.make(entry);
    this.events.emit('add', device);
    return device;
  }

  /** Unlists a synthetic device, emitting `remove`; false if it was not listed. */
  removeSynthetic(id: string): boolean {
    if (!this.synthetic.delete(id)) return false;
    this.events.emit('remove', id);
    return true;
  }

  /** Adds a provider (e.g. USB) and subscribes to its hotplug. */
  registerProvider(provider: DeviceProvider): void {
    if (this.providers.has(provider)) return;
    const unwatch = provider.watch?.({
      added: (d) => this.events.emit('add', d),
      removed: (id) => this.events.emit('remove', id),
    });
    this.providers.set(provider, unwatch);
  }

  /** Removes a provider and its hotplug subscription. */
  unregisterProvider(provider: DeviceProvider): void {
    const unwatch = this.providers.get(provider);
    this.providers.delete(provider);
    unwatch?.();
  }

  /**
   * Every device: synthetic first (config order), then each provider's. A provider that fails
   * is logged and skipped, so one broken bus never hides the others.
   */
  async list(): Promise<HalDevice[]> {
    const out: HalDevice[] = [...this.synthetic.values()];
    for (const provider of this.providers.keys()) {
      try {
        out.push(...(await provider.list()));
      } catch (err) {
        this.logger.warn({ err, provider: provider.name }, 'device provider failed to list');
      }
    }
    return out;
  }

  /**
   * The device with this id. Query options after `?` are ignored here (the CLI parses them).
   * @throws HalError(NotFound) if no listed device has it.
   */
  async find(id: string): Promise<HalDevice> {
    const bare = id.split('?')[0] ?? id;
    const devices = await this.list();
    const found = devices.find((d) => d.identity.id === bare);
    if (found === undefined)
      throw new HalError(HalErrorCode.NotFound, `no device '${bare}'`, { deviceId: bare });
    return found;
  }

  /** Drops provider subscriptions; listed devices are left as they are. */
  dispose(): void {
    for (const p of [...this.providers.keys()]) this.unregisterProvider(p);
  }

  private make(entry: SyntheticDeviceConfig): HalDevice {
    if (typeof entry !== 'object' || entry === null || typeof entry.kind !== 'string') {
      throw new TypeError('synthetic device entry must be { kind, id?, options? }');
    }
    const factory = this.factories.get(entry.kind);
    if (factory === undefined) {
      throw new HalError(
        HalErrorCode.NotFound,
        `no synthetic device kind '${entry.kind}' (known: ${this.syntheticKinds.join(', ') || 'none'})`,
      );
    }
    const id = entry.id ?? `synthetic:${entry.kind}`;
    if (this.synthetic.has(id))
      throw new HalError(HalErrorCode.Busy, `a device '${id}' is already listed`, { deviceId: id });
    const device = factory({ ...entry, id }, this.logger);
    if (device.identity.id !== id)
      throw new TypeError(
        `factory for '${entry.kind}' returned id '${device.identity.id}', expected '${id}'`,
      );
    this.synthetic.set(id, device);
    return device;
  }
}
