// Test harnesses of ks-core, exported as ./testing.
export {};
// Streaming harnesses: invariant checker and a Worker consumer.
export { StreamInvariantChecker, StreamInvariantError } from './invariant-checker.js';
export type { StreamRule, StreamViolation } from './invariant-checker.js';
export { WorkerConsumer } from './worker-consumer.js';
export type { CaughtError, WorkerConsumerOptions, WorkerConsumerReport } from './worker-consumer.js';
// Object-model harnesses: manual clock, test minidriver, conformance suite.
export { ManualClock } from '../manual-clock.js';
export { describeMinidriverConformance } from './conformance.js';
export { PinHarness } from './pin-harness.js';
export type { CapturedFrame, PinHarnessOptions } from './pin-harness.js';
export type { ConformanceOptions, ConformanceSubject } from './conformance.js';
export {
  TestCaptureHardware,
  testMinidriver,
  testFilterDescriptor,
  createTestDevice,
  fillTestFrame,
  checkTestFrame,
  TestProperty,
  TestEventSet,
} from './test-minidriver.js';
export type {
  TestFilterContext,
  TestPinContext,
  TestHardwareFaults,
  TestDeviceOptions,
} from './test-minidriver.js';
