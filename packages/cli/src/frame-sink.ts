// Where `ksemu stream` puts frames: a .y4m file, a concatenated .mjpeg stream, a directory of raw/PNG frames, stdout, or nowhere.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Fourcc } from '@ksemu/hal';
import { goldenFileName, writeFramePng } from '@ksemu/fixtures';
import { CliError, ExitCode } from './cli-error.js';
import { AviWriter, aviSupports } from './avi-writer.js';
import { Y4mWriter, y4mSupports } from './y4m-writer.js';

/** A frame destination. `write` borrows `data` only until its promise settles. */
export interface FrameSink {
  readonly label: string;
  /** True when the sink writes to stdout (the summary then goes to stderr). */
  readonly usesStdout: boolean;
  write(data: Uint8Array, index: number): Promise<void>;
  close(): Promise<void>;
}

/** What a sink needs to know about the stream. */
export interface SinkFormat {
  readonly fourcc: Fourcc;
  readonly width: number;
  readonly height: number;
  readonly interval: bigint;
}

function writeChunk(out: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
}

function endStream(out: Writable | WriteStream): Promise<void> {
  if (out === process.stdout) return Promise.resolve();
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

class StreamSink implements FrameSink {
  private readonly y4m: Y4mWriter | undefined;
  constructor(
    readonly label: string,
    private readonly out: Writable,
    format: SinkFormat,
    kind: 'y4m' | 'elementary',
    readonly usesStdout: boolean,
  ) {
    this.y4m = kind === 'y4m' ? new Y4mWriter(out, format) : undefined;
  }
  async write(data: Uint8Array): Promise<void> {
    if (this.y4m) await this.y4m.write(data);
    else await writeChunk(this.out, data);
  }
  close(): Promise<void> {
    return endStream(this.out);
  }
}

class DirectorySink implements FrameSink {
  readonly usesStdout = false;
  constructor(
    readonly label: string,
    private readonly dir: string,
    private readonly format: SinkFormat,
    private readonly png: boolean,
  ) {}
  async write(data: Uint8Array, index: number): Promise<void> {
    const { fourcc, width, height } = this.format;
    if (this.png) {
      await writeFramePng(
        join(this.dir, `frame-${String(index).padStart(6, '0')}.png`),
        data,
        fourcc,
        width,
        height,
      );
    } else {
      await writeFile(join(this.dir, goldenFileName(index, fourcc)), data);
    }
  }
  async close(): Promise<void> {}
}

class AviSink implements FrameSink {
  readonly usesStdout = false;
  constructor(
    readonly label: string,
    private readonly avi: AviWriter,
  ) {}
  write(data: Uint8Array): Promise<void> {
    return this.avi.write(data);
  }
  close(): Promise<void> {
    return this.avi.close();
  }
}

class NullSink implements FrameSink {
  readonly label = '(none)';
  readonly usesStdout = false;
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Picks the sink for `--out`: `*.y4m`, `*.avi` (packed, as captured), `*.mjpeg|*.mjpg`, `-` (y4m, or MJPEG for MJPG), a path
 * ending in `/` or an existing directory (raw frames; PNGs with `png`), or nothing.
 * @throws CliError Usage when the output cannot hold the format.
 */
export async function openSink(
  out: string | undefined,
  format: SinkFormat,
  png: boolean,
): Promise<FrameSink> {
  if (out === undefined) return new NullSink();
  const mjpg = format.fourcc === 'MJPG';
  if (out === '-') {
    if (!mjpg && !y4mSupports(format.fourcc)) {
      throw new CliError(
        `stdout carries y4m, which cannot hold ${format.fourcc}`,
        ExitCode.Usage,
        'write a directory instead: --out frames/',
      );
    }
    return new StreamSink('stdout', process.stdout, format, mjpg ? 'elementary' : 'y4m', true);
  }
  const lower = out.toLowerCase();
  if (lower.endsWith('.y4m')) {
    if (!y4mSupports(format.fourcc)) {
      throw new CliError(
        `${out}: y4m cannot hold ${format.fourcc}`,
        ExitCode.Usage,
        mjpg ? 'use --out file.mjpeg for MJPEG' : 'use a directory (--out frames/ [--png]) for RGB formats',
      );
    }
    return new StreamSink(out, await openFile(out), format, 'y4m', false);
  }
  if (lower.endsWith('.avi')) {
    if (!aviSupports(format.fourcc))
      throw new CliError(`${out}: AVI cannot hold ${format.fourcc}`, ExitCode.Usage);
    await mkdir(dirname(out), { recursive: true });
    return new AviSink(out, await AviWriter.create(out, format));
  }
  if (lower.endsWith('.mjpeg') || lower.endsWith('.mjpg')) {
    if (!mjpg)
      throw new CliError(
        `${out}: an .mjpeg file holds MJPG frames, not ${format.fourcc}`,
        ExitCode.Usage,
        'use --out file.y4m',
      );
    return new StreamSink(out, await openFile(out), format, 'elementary', false);
  }
  if (/\.[a-z0-9]{2,5}$/i.test(out) && !out.endsWith('/')) {
    throw new CliError(
      `don't know how to write '${out}'`,
      ExitCode.Usage,
      'use a .y4m, .avi or .mjpeg file, a directory ending in /, or - for stdout',
    );
  }
  await mkdir(out, { recursive: true });
  return new DirectorySink(out, out, format, png);
}

async function openFile(path: string): Promise<WriteStream> {
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(
        new CliError(`cannot write ${path}: ${err.message}`, ExitCode.Failure, undefined, { cause: err }),
      ),
    );
  });
  return stream;
}
