"use client";
import * as React from "react";

/**
 * Runs `reset` each time a dialog opens, so it starts with an empty form and no error left from
 * the last time. Only `open` triggers it: the setters and mutation.reset it calls are stable.
 */
export function useOnOpen(open: boolean, reset: () => void) {
  React.useEffect(() => {
    if (open) reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);
}
