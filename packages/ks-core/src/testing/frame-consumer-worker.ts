// Worker entry of the test consumer: attaches a FrameStream from its handle, records what it receives, releases frames.
import { parentPort, workerData } from 'node:worker_threads';
import { attachFrameStream } from '../frame-stream.js';
import type { Frame, FrameStreamHandle } from '../frame-stream.js';
import type { WorkerConsumerOptions, WorkerConsumerReport } from './worker-consumer.js';

interface Data {
  readonly handle: FrameStreamHandle;
  readonly options: WorkerConsumerOptions;
}

function errorSummary(fn: () => unknown): { name: string; code: string; current: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    const err = e as { name?: unknown; code?: unknown; current?: unknown };
    return { name: String(err.name), code: String(err.code), current: String(err.current) };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('frame-consumer-worker must run in a Worker');
  const { handle, options } = workerData as Data;
  const limit = options.recordLimit ?? 1000;
  const stream = attachFrameStream(handle);
  const held: Frame[] = [];
  let releaseHeld = false;
  let readLimit = options.readLimit ?? Infinity;
  let resume: (() => void) | undefined;
  port.on('message', (m: unknown) => {
    if (m === 'release-held') {
      releaseHeld = true;
      for (const f of held.splice(0)) {
        // A frame a stop revoked: reading it reports the revocation, releasing it is a no-op.
        if (f.revoked && report.revokedAccess === null) report.revokedAccess = errorSummary(() => f.sequence);
        if (!f.release()) report.lateReleases++;
      }
      port.postMessage({ type: 'released-held', staleReleases: stream.staleReleases });
    } else if (m === 'resume') {
      readLimit = Infinity;
      resume?.();
    }
  });
  const report: WorkerConsumerReport = {
    received: 0,
    sequences: [],
    presentationTimes: [],
    dropCounts: [],
    bytesUsed: [],
    statuses: [],
    patternErrors: 0,
    marked: 0,
    releaseTwice: null,
    useAfterRelease: null,
    revokedAccess: null,
    lateReleases: 0,
    staleReleases: 0,
  };
  port.postMessage({ type: 'ready' });
  for (;;) {
    if (report.received >= readLimit) {
      // A consumer that stops reading (without closing): it neither takes nor gives back anything.
      port.postMessage({ type: 'stalled', count: report.received });
      await new Promise<void>((r) => (resume = r));
    }
    const next = await stream.next();
    if (next.done === true) break;
    const frame = next.value;
    const seq = frame.sequence;
    if (report.sequences.length < limit) {
      report.sequences.push(seq);
      report.presentationTimes.push(frame.presentationTime.toString());
      report.dropCounts.push(frame.dropCount);
      report.bytesUsed.push(frame.bytesUsed);
      report.statuses.push(frame.status);
    }
    report.received++;
    const data = frame.data;
    if (options.checkPattern === true && frame.bytesUsed >= 4) {
      const v = (data[0] ?? 0) | ((data[1] ?? 0) << 8) | ((data[2] ?? 0) << 16) | ((data[3] ?? 0) << 24);
      if (v >>> 0 !== seq >>> 0) report.patternErrors++;
    }
    if (options.markByte !== undefined && frame.bytesUsed > options.markByte) {
      // Written into the producer's own memory: the producer sees it only if nothing was copied.
      data[options.markByte] = 0xa5;
      report.marked++;
    }
    if (!releaseHeld && held.length < (options.hold ?? 0)) {
      held.push(frame);
      port.postMessage({ type: 'holding', count: held.length });
      port.postMessage({ type: 'consumed', count: report.received });
      continue;
    }
    frame.release();
    if (options.probeErrors === true && report.releaseTwice === null) {
      report.releaseTwice = errorSummary(() => frame.release());
      report.useAfterRelease = errorSummary(() => frame.data);
    }
    // After the release, so the producer sees the slot free once this message arrives.
    port.postMessage({ type: 'consumed', count: report.received });
  }
  port.postMessage({ type: 'ended', held: held.length });
  // Frames still held (hold > 0 and no release-held yet) are released when asked; report once none is held.
  while (held.length > 0) await new Promise((r) => port.once('message', r));
  report.staleReleases = stream.staleReleases;
  port.postMessage({ type: 'done', report });
  port.close();
}

void main().catch((err: unknown) => {
  parentPort?.postMessage({
    type: 'error',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
});
