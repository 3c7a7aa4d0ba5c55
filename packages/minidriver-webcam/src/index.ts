// Public entry point of minidriver-webcam.
export {};
