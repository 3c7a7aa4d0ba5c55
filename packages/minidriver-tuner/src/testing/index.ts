// Test harnesses of minidriver-tuner, exported as ./testing.
export {};
