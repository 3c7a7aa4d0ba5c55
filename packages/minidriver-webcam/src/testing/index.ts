// Test harnesses of minidriver-webcam, exported as ./testing.
export { expectFixture } from './fixture.js';
