/** The match of `re` on each line of `text` that it matches, in order (tool output, one row a line). */
export function lineMatches(text: string, re: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (m) out.push(m);
  }
  return out;
}
