/**
 * docs/api.md as a test: its ```sh blocks, run in order in one bash session,
 * must print the answers its ```json (or ```text) blocks show. This file reads
 * the page, compares answers under the page's placeholder rules (stated at the
 * top of the page, under "Talking to the service") and writes answers back for
 * UPDATE_API_DOCS=1.
 */

export interface Block {
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Index of the first and one past the last content line (0-based lines of the page). */
  from: number;
  to: number;
  text: string;
  /** The headings it stands under, e.g. "A user's second factors › `me`". */
  heading: string;
}

export interface Example {
  command: Block;
  /** The ```json or ```text block right after the command (blank lines between at most). */
  answer?: Block;
}

/** The fenced blocks of a Markdown page, with the headings they stand under. */
export function blocksOf(page: string): Block[] {
  const lines = page.split('\n');
  const blocks: Block[] = [];
  const headings: string[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const heading = /^(#{2,4}) (.*)$/.exec(lines[index]);
    if (heading) {
      headings.length = heading[1].length - 2;
      headings.push(heading[2]);
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(lines[index]);
    if (!fence) continue;
    const close = lines.findIndex((text, at) => at > index && /^```\s*$/.test(text));
    if (close === -1) throw new Error(`docs/api.md:${index + 1}: a code block that is never closed`);
    blocks.push({
      lang: fence[1],
      line: index + 1,
      from: index + 1,
      to: close,
      text: lines.slice(index + 1, close).join('\n'),
      heading: headings.join(' › '),
    });
    index = close;
  }
  return blocks;
}

const ANSWER_LANGS = ['json', 'text'];

/** Each ```sh block with the answer shown right after it; an answer block with no command is an error. */
export function examplesOf(page: string): Example[] {
  const lines = page.split('\n');
  const blocks = blocksOf(page);
  const examples: Example[] = [];
  for (let index = 0; index < blocks.length; index += 1) {
    const block = blocks[index];
    if (ANSWER_LANGS.includes(block.lang))
      throw new Error(
        `docs/api.md:${block.line} (${block.heading}): a \`\`\`${block.lang} block must be the answer of the \`\`\`sh block right before it`,
      );
    if (block.lang !== 'sh') continue;
    const next = blocks[index + 1];
    const adjacent =
      next &&
      ANSWER_LANGS.includes(next.lang) &&
      lines.slice(block.to + 1, next.from - 1).every((text) => !text.trim());
    examples.push({ command: block, answer: adjacent ? next : undefined });
    if (adjacent) index += 1;
  }
  return examples;
}

// ---------------------------------------------------------------------------------------------
// Answers: a sequence of JSON values (and the `HTTP 401` lines gql prints for a status other than 200)

export type Value = unknown;

/** Splits printed text into the JSON values it holds, one after the other. */
export function valuesOf(text: string): Value[] {
  const values: Value[] = [];
  let at = 0;
  while (at < text.length) {
    if (/\s/.test(text[at])) {
      at += 1;
      continue;
    }
    const status = /^HTTP \d{3}(?=\n|$)/.exec(text.slice(at));
    if (status) {
      values.push(status[0]);
      at += status[0].length;
      continue;
    }
    const end = endOfValue(text, at);
    try {
      values.push(JSON.parse(text.slice(at, end)));
    } catch (error) {
      throw new Error(`not JSON from offset ${at}: ${(error as Error).message}\n${text.slice(at, at + 200)}`, {
        cause: error,
      });
    }
    at = end;
  }
  return values;
}

function endOfValue(text: string, start: number): number {
  if (text[start] !== '{' && text[start] !== '[') {
    if (text[start] === '"') return endOfString(text, start);
    const match = /^[^\s]+/.exec(text.slice(start));
    return start + (match ? match[0].length : 1);
  }
  let depth = 0;
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') at = endOfString(text, at) - 1;
    else if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') {
      depth -= 1;
      if (depth === 0) return at + 1;
    }
  }
  return text.length;
}

function endOfString(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at += 1) {
    if (text[at] === '\\') at += 1;
    else if (text[at] === '"') return at + 1;
  }
  return text.length;
}

// ---------------------------------------------------------------------------------------------
// Placeholders

/** When the example ran: times in answers are checked against these (ms since the epoch). */
export interface Moments {
  /** Before the service started. */
  session: number;
  /** The command's start and end. */
  start: number;
  end: number;
  /**
   * For <as before>: each time an earlier example's answer showed under a time
   * placeholder, by the field's name (the latest); the runner adds each
   * example's once it has been compared (timesShown).
   */
  earlier?: Map<string, number>;
}

const SLACK_MS = 2_000;
const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const PLACEHOLDER = /<([^<>\n]+)>|…/g;
const COUNTED = /^… (\d+) more …$/;

const isPattern = (text: string) => text.includes('…') || /<[^<>\n]+>/.test(text);

/** The moment a time placeholder allows, or undefined for a placeholder that is no time. */
function window(name: string, moments: Moments): [number, number] | undefined {
  if (name === 'now') return [moments.start - SLACK_MS, moments.end + SLACK_MS];
  if (name === 'time') return [moments.session - SLACK_MS, moments.end + SLACK_MS];
  const ahead = /^in (about )?(\d+) (second|minute|hour|day)s?$/.exec(name);
  if (!ahead) return undefined;
  const span = Number(ahead[2]) * UNIT_MS[ahead[3]];
  const about = ahead[1] ? span / 4 : 0;
  return [moments.session + span - about - SLACK_MS, moments.end + span + about + SLACK_MS];
}

/** An ISO 8601 time, or Unix seconds, as ms; NaN for anything else. */
function timeOf(value: string | number): number {
  if (typeof value === 'number' || /^\d{9,11}$/.test(value)) return Number(value) * 1_000;
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) ? Date.parse(value) : NaN;
}

function describeTime(value: string | number, moments: Moments): string {
  const ms = timeOf(value);
  if (Number.isNaN(ms)) return 'not a time';
  const seconds = Math.round((ms - moments.end) / 1000);
  const span = (s: number) =>
    s >= 86_400 ? `${(s / 86_400).toFixed(2)} days` : s >= 120 ? `${(s / 60).toFixed(1)} minutes` : `${s} seconds`;
  return seconds >= 0 ? `in ${span(seconds)}` : `${span(-seconds)} ago`;
}

const AS_BEFORE = 'as before';

/** Why `actual` does not fit the placeholder `name` (the whole value of `field`), or undefined when it does. */
function placeholderMismatch(
  name: string,
  actual: string | number,
  moments: Moments,
  field?: string,
): string | undefined {
  if (actual === '') return `<${name}> stands for a value, not an empty one`;
  if (name === AS_BEFORE) {
    // The same moment an earlier answer showed (a grant's time, listed later): exactly it, however long ago.
    const before = field === undefined ? undefined : moments.earlier?.get(field);
    if (before === undefined)
      return `<${name}> stands for a time an earlier answer showed as ${field ?? 'this value'}, and none did`;
    if (timeOf(actual) !== before)
      return `<${name}> is ${new Date(before).toISOString()}, the ${field} an earlier answer showed, and ${JSON.stringify(actual)} is not`;
    return undefined;
  }
  const allowed = window(name, moments);
  if (!allowed) return undefined;
  const ms = timeOf(actual);
  if (Number.isNaN(ms)) return `<${name}> stands for a time, and ${JSON.stringify(actual)} is none`;
  if (ms < allowed[0] || ms > allowed[1])
    return `<${name}> is not when ${JSON.stringify(actual)} is (${describeTime(actual, moments)})`;
  return undefined;
}

/** Why the string `actual` does not fit the pattern `expected` (…, <name>), or undefined when it does. */
function patternMismatch(expected: string, actual: Value, moments: Moments, field?: string): string | undefined {
  const whole = /^<([^<>\n]+)>$/.exec(expected);
  if (whole && (typeof actual === 'string' || typeof actual === 'number'))
    return placeholderMismatch(whole[1], actual, moments, field);
  if (typeof actual !== 'string') return `expected a string like ${JSON.stringify(expected)}`;
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const match of expected.matchAll(PLACEHOLDER)) {
    source += escapeRegExp(expected.slice(last, match.index));
    if (match[0] === '…') source += '[\\s\\S]*?';
    else {
      names.push(match[1]);
      source += '([\\s\\S]+?)';
    }
    last = match.index + match[0].length;
  }
  source += escapeRegExp(expected.slice(last));
  const found = new RegExp(`^${source}$`).exec(actual);
  if (!found) return 'the text differs';
  for (let index = 0; index < names.length; index += 1) {
    const problem = placeholderMismatch(names[index], found[index + 1], moments);
    if (problem) return problem;
  }
  return undefined;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface Difference {
  path: string;
  expected: Value;
  actual: Value;
  why: string;
}

/** The first place where `actual` does not fit `expected` (placeholders allowed in expected). */
export function differenceOf(
  expected: Value,
  actual: Value,
  moments: Moments,
  path = '',
  field?: string,
): Difference | undefined {
  const differ = (why: string): Difference => ({ path: path || '(the whole answer)', expected, actual, why });
  if (typeof expected === 'string' && isPattern(expected)) {
    const why = patternMismatch(expected, actual, moments, field);
    return why ? differ(why) : undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return differ('expected a list');
    const tail = expected[expected.length - 1];
    const more = typeof tail === 'string' ? (tail === '…' ? Infinity : Number(COUNTED.exec(tail)?.[1] ?? NaN)) : NaN;
    const shown = Number.isNaN(more) ? expected : expected.slice(0, -1);
    const count = shown.length + (Number.isNaN(more) ? 0 : more);
    if (more === Infinity ? actual.length < shown.length : actual.length !== count)
      return differ(
        `expected ${Number.isNaN(more) ? count : `${shown.length} shown and ${tail}`} items, got ${actual.length}`,
      );
    for (let index = 0; index < shown.length; index += 1) {
      const found = differenceOf(shown[index], actual[index], moments, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return differ('expected an object');
    const keys = Object.keys(expected);
    const missing = keys.filter((key) => !(key in actual));
    const extra = Object.keys(actual).filter((key) => !(key in expected));
    if (missing.length || extra.length)
      return differ(
        [missing.length && `missing ${missing.join(', ')}`, extra.length && `also ${extra.join(', ')}`]
          .filter(Boolean)
          .join('; '),
      );
    for (const key of keys) {
      const found = differenceOf(
        (expected as Record<string, Value>)[key],
        (actual as Record<string, Value>)[key],
        moments,
        path ? `${path}.${key}` : key,
        key,
      );
      if (found) return found;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : differ('the value differs');
}

/**
 * `actual` written as the page would show it: the page's placeholders kept
 * where they still fit, a shortened list still shortened, new times as <time>.
 */
export function merged(expected: Value, actual: Value, moments: Moments, field?: string): Value {
  if (typeof expected === 'string' && isPattern(expected) && !patternMismatch(expected, actual, moments, field))
    return expected;
  if (Array.isArray(actual)) {
    const list = Array.isArray(expected) ? expected : [];
    const tail = list[list.length - 1];
    const shortened = typeof tail === 'string' && (tail === '…' || COUNTED.test(tail));
    const shown = shortened ? list.length - 1 : actual.length;
    const head = actual.slice(0, shown).map((item, index) => merged(list[index], item, moments));
    if (!shortened || actual.length <= shown) return head;
    return [...head, tail === '…' ? '…' : `… ${actual.length - shown} more …`];
  }
  if (actual !== null && typeof actual === 'object') {
    const shown = expected !== null && typeof expected === 'object' && !Array.isArray(expected) ? expected : {};
    return Object.fromEntries(
      Object.entries(actual).map(([key, value]) => [
        key,
        merged((shown as Record<string, Value>)[key], value, moments, key),
      ]),
    );
  }
  if (typeof actual === 'string' && actual.includes('T') && !Number.isNaN(timeOf(actual)))
    return timePlaceholder(actual, moments);
  return actual;
}

/**
 * Adds to `moments.earlier` each time `actual` shows where `expected` has a
 * time placeholder as the field's whole value (and it fits), by the field's
 * name: what a later <as before> of that field stands for.
 */
export function timesShown(expected: Value, actual: Value, moments: Moments, field?: string): void {
  if (typeof expected === 'string') {
    const whole = /^<([^<>\n]+)>$/.exec(expected);
    if (!whole || field === undefined || !moments.earlier) return;
    if (whole[1] !== AS_BEFORE && !window(whole[1], moments)) return;
    if (
      (typeof actual !== 'string' && typeof actual !== 'number') ||
      placeholderMismatch(whole[1], actual, moments, field)
    )
      return;
    moments.earlier.set(field, timeOf(actual));
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    expected.forEach((item, index) => timesShown(item, actual[index], moments, field));
  } else if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    for (const [key, item] of Object.entries(expected))
      timesShown(item, (actual as Record<string, Value>)[key], moments, key);
  }
}

/** The placeholder that best says when `actual` is: <now>, <in 5 minutes>, or else <time>. */
function timePlaceholder(actual: string, moments: Moments): string {
  const ms = timeOf(actual);
  const fits = (name: string) => {
    const allowed = window(name, moments)!;
    return ms >= allowed[0] && ms <= allowed[1];
  };
  if (fits('now')) return '<now>';
  const ahead = ms - moments.end;
  for (const unit of ['day', 'hour', 'minute', 'second']) {
    const count = Math.round(ahead / UNIT_MS[unit]);
    const name = `in ${count} ${unit}${count === 1 ? '' : 's'}`;
    if (count >= 1 && fits(name)) return `<${name}>`;
  }
  return '<time>';
}

const WIDTH = 120;

/** One line, spaced as the page writes short answers: { "a": [1, 2] }. */
function inline(value: Value): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${inline(item)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return JSON.stringify(value);
}

/** A value on one line where it fits, else one key or item a line, two spaces deep. */
function laidOut(value: Value, indent: string, prefix: number): string {
  const one = inline(value);
  if (value === null || typeof value !== 'object' || indent.length + prefix + one.length <= WIDTH) return one;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((item) => inner + laidOut(item, inner, 0)).join(',\n')}\n${indent}]`;
  const lines = Object.entries(value).map(
    ([key, item]) => `${inner}${JSON.stringify(key)}: ${laidOut(item, inner, JSON.stringify(key).length + 2)}`,
  );
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** Answers as the page shows them: short ones on one line, longer ones opened up. */
export function formatted(values: Value[]): string {
  return values
    .map((value) => (typeof value === 'string' && /^HTTP \d{3}$/.test(value) ? value : laidOut(value, '', 0)))
    .join('\n');
}

/** Compares printed text with a ```text answer line by line (placeholders allowed in the page's lines). */
export function textDifference(expected: string, actual: string, moments: Moments): Difference | undefined {
  const want = expected.replace(/\s+$/, '').split('\n');
  const got = actual.replace(/\s+$/, '').split('\n');
  for (let index = 0; index < Math.max(want.length, got.length); index += 1) {
    const line = want[index];
    const printed = got[index];
    if (line === undefined || printed === undefined)
      return {
        path: `line ${index + 1}`,
        expected: line ?? '(no line)',
        actual: printed ?? '(no line)',
        why: 'the number of lines differs',
      };
    const why = isPattern(line)
      ? patternMismatch(line, printed, moments)
      : line === printed
        ? undefined
        : 'the text differs';
    if (why) return { path: `line ${index + 1}`, expected: line, actual: printed, why };
  }
  return undefined;
}

/** `actual` as a ```text answer: the page's lines kept where they still fit. */
export function mergedText(expected: string, actual: string, moments: Moments): string {
  const want = expected.split('\n');
  return actual
    .replace(/\s+$/, '')
    .split('\n')
    .map((printed, index) =>
      want[index] !== undefined && isPattern(want[index]) && !patternMismatch(want[index], printed, moments)
        ? want[index]
        : printed,
    )
    .join('\n');
}
