// Public entry point of minidriver-tuner.
export {};
