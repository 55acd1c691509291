/**
 * A text cut at the places where sentinel values stood, so that producing it again with other
 * values is a handful of string concatenations instead of the work that made the text.
 * Slots are numbered by the order of the sentinels given to `compileTemplate`; an undefined
 * sentinel leaves its slot unused, so related templates can share one numbering.
 */
export interface TextTemplate {
  /** Literal text: one more piece than there are holes. */
  readonly pieces: readonly string[];
  /** For each hole, in text order, which slot fills it. */
  readonly holes: readonly number[];
}

/**
 * Cuts `text` at each sentinel. Returns undefined unless every sentinel occurs exactly once:
 * a sentinel that also occurs by chance elsewhere would make a fill replace the wrong bytes.
 */
export function compileTemplate(text: string, sentinels: ReadonlyArray<string | undefined>): TextTemplate | undefined {
  const found: Array<{ at: number; slot: number; length: number }> = [];
  for (const [slot, sentinel] of sentinels.entries()) {
    if (sentinel === undefined) continue;
    const at = text.indexOf(sentinel);
    if (sentinel === '' || at < 0 || text.indexOf(sentinel, at + 1) >= 0) return undefined;
    found.push({ at, slot, length: sentinel.length });
  }
  found.sort((a, b) => a.at - b.at);
  const pieces: string[] = [];
  let from = 0;
  for (const hole of found) {
    // Overlapping sentinels cannot be told apart.
    if (hole.at < from) return undefined;
    pieces.push(text.slice(from, hole.at));
    from = hole.at + hole.length;
  }
  pieces.push(text.slice(from));
  return { pieces, holes: found.map((hole) => hole.slot) };
}

/** The text with each hole filled from `values[slot]`. */
export function fillTemplate(template: TextTemplate, values: readonly string[]): string {
  const { pieces, holes } = template;
  let text = pieces[0]!;
  for (let index = 0; index < holes.length; index++) text += values[holes[index]!]! + pieces[index + 1]!;
  return text;
}
