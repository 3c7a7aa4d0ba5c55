// The `ksemu view` web server: serves the page and a WebSocket per tab over one shared capture (node:http + ws).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '@ksemu/ks-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { CaptureHub, type CaptureHubOptions } from './capture-hub.js';
import { ViewerConnection } from './viewer-connection.js';

/** Options of {@link ViewerServer.start}. */
export interface ViewerServerOptions extends CaptureHubOptions {
  /** Interface to listen on (default 127.0.0.1: loopback only). */
  readonly host?: string;
  /** TCP port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Frames a page may have unacknowledged (default 1). */
  readonly framesInFlight?: number;
}

const STATIC_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/viewer-page.js': { file: 'viewer-page.js', type: 'text/javascript; charset=utf-8' },
  '/viewer.css': { file: 'viewer.css', type: 'text/css; charset=utf-8' },
};
const STATIC_DIR = new URL('../static/', import.meta.url);

/**
 * A running viewer: an HTTP server with the page, `/ws` for the live protocol and `/api/state`
 * (the init message as JSON). One {@link CaptureHub} serves every tab. `close()` disconnects every
 * page, stops the pin (every buffer back) and closes the device.
 */
export class ViewerServer {
  readonly #connections = new Map<WebSocket, ViewerConnection>();
  #closing: Promise<void> | undefined;

  private constructor(
    readonly hub: CaptureHub,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    /** The page's address, e.g. `http://127.0.0.1:8080/`. */
    readonly url: string,
    private readonly log: Logger,
    private readonly framesInFlight: number,
    private readonly loopbackOnly: boolean,
  ) {
    wss.on('connection', (socket) => this.#onConnection(socket));
  }

  /**
   * Opens the device and starts listening.
   * @throws KsError/HalError when the device cannot be opened; an Error with code EADDRINUSE
   *   (or similar) when the port cannot be bound (the device is closed again).
   */
  static async start(options: ViewerServerOptions): Promise<ViewerServer> {
    const log = (options.logger ?? silentLogger()).child({ component: 'viewer-server' });
    const inFlight = options.framesInFlight ?? 1;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 8)
      throw new RangeError(`framesInFlight must be 1…8, got ${String(options.framesInFlight)}`);
    const hub = await CaptureHub.open(options);
    const http = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await hub.close().catch(() => undefined);
      throw err;
    }
    // Made after listening: a WebSocketServer re-emits its HTTP server's errors (EADDRINUSE) as its own.
    const loopbackOnly = isLoopback(options.host ?? '127.0.0.1');
    const wss = new WebSocketServer({
      server: http,
      path: '/ws',
      maxPayload: 64 * 1024,
      // WebSockets ignore CORS: without this any web page the user visits could drive the device.
      verifyClient: ({ origin, req }: { origin: string; req: IncomingMessage }) =>
        hostAllowed(req, loopbackOnly) &&
        (origin === undefined || origin === `http://${req.headers.host ?? ''}`),
    });
    wss.on('error', (err) => log.warn({ err }, 'WebSocket server error'));
    const addr = http.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const server = new ViewerServer(
      hub,
      http,
      wss,
      `http://${host}:${addr.port}/`,
      log,
      inFlight,
      loopbackOnly,
    );
    http.on('request', (req, res) => void server.#onRequest(req, res));
    return server;
  }

  /** Open page connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Disconnects every page, stops the capture (all buffers back), closes the device. Idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      for (const socket of this.#connections.keys()) socket.terminate();
      this.#connections.clear();
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
      await this.hub.close();
    })());
  }

  #onConnection(socket: WebSocket): void {
    if (this.#closing) {
      socket.terminate();
      return;
    }
    const conn = new ViewerConnection(socket, this.hub, this.log, this.framesInFlight);
    this.#connections.set(socket, conn);
    socket.on('close', () => {
      this.#connections.delete(socket);
      this.hub.detach(conn).catch((err: unknown) => this.log.warn({ err }, 'stopping the capture failed'));
    });
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    void (async () => {
      try {
        conn.send(await this.hub.initMessage());
        if (socket.readyState !== socket.OPEN) return;
        await this.hub.attach(conn);
      } catch (err) {
        conn.send({ type: 'error', error: (err as Error).message });
      }
    })();
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!hostAllowed(req, this.loopbackOnly)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host\n');
      return;
    }
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/api/state') {
        const body = JSON.stringify(await this.hub.initMessage());
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
        return;
      }
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const entry = STATIC_FILES[path];
      if (!entry) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const body = await readFile(new URL(entry.file, STATIC_DIR));
      res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-store' }).end(body);
    } catch (err) {
      this.log.warn({ err, path }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${(err as Error).message}\n`);
    }
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * On a loopback server only loopback Host headers are served, so a DNS-rebinding page (evil.example
 * resolving to 127.0.0.1) cannot read the state or connect.
 */
function hostAllowed(req: IncomingMessage, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const host = req.headers.host;
  if (host === undefined) return true; // HTTP/1.0 tools; browsers always send Host
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name === 'localhost' || name === '[::1]' || (name ?? '').startsWith('127.');
}
