// Test harnesses of minidriver-webcam, exported as ./testing.
export {};
