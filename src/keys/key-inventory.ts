import { CiphertextRefused, type CiphertextLabel, type SecretBox } from '../infra/crypto/cipher';
import type { StoredCiphertexts } from './stored-ciphertexts';

/** Values stored under one key id: all of them, and those from before associated data (v1). */
export interface KeyCount {
  /** A configured key id, or `unknown` (a key this instance is not given): a closed set, for metric labels. */
  keyId: string;
  values: number;
  unbound: number;
}

/** Values under a key id whose key this instance cannot use. */
export interface KeyProblem {
  /** The id as stored (for v1 values, the key's fingerprint). */
  keyId: string;
  version: CiphertextLabel['version'];
  kind: 'missing' | 'replaced';
  /** `table.column` of each column that has such values. */
  columns: string[];
}

/** How many values open without opening one: tried per key id before refusing a start for a replaced key. */
const SAMPLES = 3;

/**
 * Which keys the stored values need, read from the columns' indexes (a skip
 * scan per column): what /metrics counts, and what start checks.
 */
export class KeyInventory {
  constructor(
    private readonly secrets: SecretBox,
    private readonly columns: readonly StoredCiphertexts[],
  ) {}

  /** Values per configured key id (every configured id listed, 0 when none), and `unknown` when some. */
  async counts(): Promise<KeyCount[]> {
    const counts = new Map<string, KeyCount>(
      this.secrets.keyIds.map((keyId) => [keyId, { keyId, values: 0, unbound: 0 }]),
    );
    for (const column of this.columns) {
      for (const { label } of await column.labels()) {
        if (!label) continue;
        const keyId = this.secrets.configuredKeyId(label) ?? 'unknown';
        const count = counts.get(keyId) ?? { keyId, values: 0, unbound: 0 };
        const values = await column.count(label);
        count.values += values;
        if (label.version === 'v1') count.unbound += values;
        counts.set(keyId, count);
      }
    }
    return [...counts.values()];
  }

  /**
   * Key ids some stored value needs that this instance lacks (`missing`), or
   * whose values do not open with the key given that id (`replaced`: a key
   * changed under the same id, as replacing ENCRYPTION_KEY in place does).
   * Reads the first values of each key id only: a start stays cheap.
   */
  async problems(): Promise<KeyProblem[]> {
    const problems = new Map<string, KeyProblem>();
    const note = (label: CiphertextLabel, kind: KeyProblem['kind'], column: string) => {
      const key = `${kind}:${label.version}.${label.keyId}`;
      const problem = problems.get(key) ?? { keyId: label.keyId, version: label.version, kind, columns: [] };
      if (!problem.columns.includes(column)) problem.columns.push(column);
      problems.set(key, problem);
    };
    for (const column of this.columns) {
      for (const { label } of await column.labels()) {
        if (!label) continue;
        if (this.secrets.configuredKeyId(label) === null) note(label, 'missing', column.name);
        else if (!(await this.someOpen(column, label))) note(label, 'replaced', column.name);
      }
    }
    return [...problems.values()];
  }

  /** Whether any of the label's first values opens (one altered row does not stop a start). */
  private async someOpen(column: StoredCiphertexts, label: CiphertextLabel): Promise<boolean> {
    const values = await column.batch(label, null, SAMPLES);
    for (const { row, value } of values) {
      try {
        this.secrets.open(value, column.bindingOf(row));
        return true;
      } catch (error) {
        if (!(error instanceof CiphertextRefused)) throw error;
      }
    }
    return values.length === 0;
  }
}

/** A start refused: what each problem means and what to do, naming the key ids. */
export function describeKeyProblems(problems: readonly KeyProblem[], configured: readonly string[]): string[] {
  return problems.map((problem) => {
    const where = problem.columns.join(', ');
    if (problem.kind === 'replaced') {
      return (
        `ENCRYPTION_KEYS: the values stored under key id ${problem.keyId} (${where}) do not open with the key now given ` +
        `that id: was it replaced under the same id (e.g. ENCRYPTION_KEY changed in place)? Give the new key a new id ` +
        `first and keep the old one after it (ENCRYPTION_KEYS=<new id>:<new key>,${problem.keyId}:<old key>)`
      );
    }
    const given = `(given: ${configured.join(', ')})`;
    if (problem.version === 'v1') {
      return (
        `ENCRYPTION_KEYS: stored values (${where}) from before key ids need the key whose SHA-256 begins ` +
        `${problem.keyId}, which is not given ${given}; add it back under any id after the current key: it may go ` +
        `once /metrics shows encrypted_values 0 for that id`
      );
    }
    return (
      `ENCRYPTION_KEYS: stored values (${where}) need key ${problem.keyId}, which is not given ${given}; add it ` +
      `back after the current key: it may go once /metrics shows encrypted_values{key_id="${problem.keyId}"} 0`
    );
  });
}
