// The USB/IP server: exports device models over TCP (protocol 0x0111) to vhci-hcd or any USB/IP client.

import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { USBIP_DEFAULT_MAX_TRANSFER_LENGTH } from '@ksemu/hal';
import { readDeviceLayout } from './device-layout.js';
import { UsbIpConnection } from './usbip-connection.js';
import type { ExportedDeviceEntry } from './usbip-connection.js';
import type { UsbIpDevice } from './usbip-device.js';

/** The IANA port of USB/IP. */
export const USBIP_PORT = 3240;

export interface UsbIpServerOptions {
  /** Address to bind (default 127.0.0.1). Anything but loopback logs a warning: USB/IP has no authentication. */
  readonly host?: string;
  /** TCP port (default 3240; 0 = any free port, read it back from `listen()`). */
  readonly port?: number;
  readonly logger?: Logger;
  /** Largest URB accepted from a client (default 16 MiB); larger ones close that connection. */
  readonly maxTransferLength?: number;
  /** Most URBs one client may have pending (default 4096; vhci keeps far fewer); more closes that connection. */
  readonly maxPendingUrbs?: number;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

/**
 * A USB/IP server. Devices are added before or after `listen()`; each may be imported by one client at
 * a time, while any number of clients list devices or import others.
 * States: `idle` → `listening` → `closed` (terminal). `listen()` twice or after `close()` throws.
 */
export class UsbIpServer {
  readonly #options: UsbIpServerOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, ExportedDeviceEntry>();
  readonly #connections = new Set<UsbIpConnection>();
  #server: Server | undefined;
  #state: 'idle' | 'listening' | 'closed' = 'idle';
  #nextDevnum = 2;
  #nextConnection = 1;

  constructor(options: UsbIpServerOptions = {}) {
    this.#options = options;
    this.#log = options.logger ?? pino({ level: 'silent' });
  }

  get state(): 'idle' | 'listening' | 'closed' {
    return this.#state;
  }

  /** Open client connections (listing, importing or imported). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Exports a device. Throws Error when the busid is taken, RangeError when its descriptors are
   * malformed (checked here, once, so clients never see them).
   */
  addDevice(device: UsbIpDevice): void {
    if (this.#entries.has(device.busid)) throw new Error(`busid ${device.busid} is already exported`);
    const layout = readDeviceLayout(device, this.#nextDevnum++);
    this.#entries.set(device.busid, {
      device,
      layout,
      owner: undefined,
      configuration: 0,
      alternates: new Map(),
    });
  }

  /** Stops exporting a device; its client, if any, is disconnected (and the device detached). */
  removeDevice(busid: string): void {
    const entry = this.#entries.get(busid);
    if (!entry) return;
    this.#entries.delete(busid);
    entry.owner?.close('device removed');
  }

  /** Binds and starts accepting clients; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.#state !== 'idle')
      throw new Error(`listen() requires state 'idle', current state is '${this.#state}'`);
    const host = this.#options.host ?? '127.0.0.1';
    const port = this.#options.port ?? USBIP_PORT;
    if (!isLoopbackHost(host))
      this.#log.warn(
        { host },
        `USB/IP server bound to ${host}, not loopback: USB/IP has no authentication, anyone who can reach this port can attach the exported devices`,
      );
    const server = createServer((socket) => {
      const id = this.#nextConnection++;
      const log = this.#log.child({ client: `${socket.remoteAddress}:${socket.remotePort}`, connection: id });
      if (this.#state !== 'listening') {
        socket.destroy();
        return;
      }
      const conn = new UsbIpConnection(
        socket,
        {
          devices: () => [...this.#entries.values()],
          find: (busid) => this.#entries.get(busid),
          closed: (c) => this.#connections.delete(c),
        },
        log,
        this.#options.maxTransferLength ?? USBIP_DEFAULT_MAX_TRANSFER_LENGTH,
        this.#options.maxPendingUrbs ?? 4096,
      );
      this.#connections.add(conn);
      log.debug('client connected');
    });
    this.#server = server;
    this.#state = 'listening';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      this.#state = 'closed';
      throw e;
    });
    server.on('error', (e) => this.#log.error({ err: e }, 'server socket error'));
    const addr = server.address() as AddressInfo;
    this.#log.info(
      { host: addr.address, port: addr.port, devices: [...this.#entries.keys()] },
      'USB/IP server listening',
    );
    return { host: addr.address, port: addr.port };
  }

  /** Stops listening and closes every connection (devices are detached). Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const server = this.#server;
    this.#state = 'closed';
    for (const c of [...this.#connections]) c.close('server closed');
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
