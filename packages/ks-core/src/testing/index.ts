// Test harnesses of ks-core, exported as ./testing.
export {};
// Streaming harnesses: invariant checker and a Worker consumer.
export { StreamInvariantChecker, StreamInvariantError } from './invariant-checker.js';
export type { StreamRule, StreamViolation } from './invariant-checker.js';
export { WorkerConsumer } from './worker-consumer.js';
export type { CaughtError, WorkerConsumerOptions, WorkerConsumerReport } from './worker-consumer.js';
