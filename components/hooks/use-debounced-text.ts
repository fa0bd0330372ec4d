"use client";
import * as React from "react";

/**
 * Local text for an input whose value lives elsewhere (the URL): typing calls `onCommit` once it
 * pauses for `delayMs`, and a change of `value` from elsewhere (back button, another control)
 * replaces the text. `commit()` sends the current text at once.
 */
export function useDebouncedText(value: string, onCommit: (v: string) => void, delayMs: number) {
  const [text, setText] = React.useState(value);
  const last = React.useRef(value);
  React.useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(value);
    }
  }, [value]);
  React.useEffect(() => {
    if (text === last.current) return;
    const t = setTimeout(() => {
      last.current = text;
      onCommit(text);
    }, delayMs);
    return () => clearTimeout(t);
  }, [text, onCommit, delayMs]);
  const commit = () => {
    last.current = text;
    onCommit(text);
  };
  return { text, setText, commit };
}
