import { CiphertextRefused, type SecretBox } from '../infra/crypto/cipher';
import { LIMITS } from '../limits';
import type { Rewrite, StoredCiphertexts } from './stored-ciphertexts';

/** What one pass did. */
export interface RotationTotals {
  /** Values now under the current key, bound to their row. */
  rewritten: number;
  /** Values whose row changed between the read and the write: left as the change left them. */
  changedMeanwhile: number;
  /** Values that do not open for their row (moved, altered): left, and audited (the refusal listener). */
  refused: number;
  /** Values under a key this instance is not given, or malformed: left. */
  unreadable: number;
}

export interface RotationProgress extends RotationTotals {
  /** The column (`table.column`) the last batch was of. */
  column: string;
}

export interface KeyRotationOptions {
  batchSize?: number;
  /** Asked before each batch: true ends the pass there (a later pass goes on: nothing is lost). */
  shouldStop?: () => boolean;
  /** After each batch (the CLI's progress lines). */
  onBatch?: (progress: RotationProgress) => void;
  /** Between reading a batch and writing it (tests: one of its rows changes meanwhile). */
  beforeWrite?: (batch: { column: string; rows: readonly Record<string, unknown>[] }) => Promise<void>;
}

/**
 * Re-encrypts every stored value that is not under the current key (or is, but
 * from before associated data) under the current key, bound to its row, in
 * batches of one read and one compare-and-set write each. Nothing is kept
 * between batches: a value done leaves the set, so a pass that stops or
 * crashes anywhere is finished by the next (docs/adr/0022-ciphertexts-bound-and-rotated.md).
 */
export class KeyRotation {
  constructor(
    private readonly secrets: SecretBox,
    private readonly columns: readonly StoredCiphertexts[],
  ) {}

  async run(options: KeyRotationOptions = {}): Promise<RotationTotals> {
    const batchSize = options.batchSize ?? LIMITS.keyRotationBatch;
    const totals: RotationTotals = { rewritten: 0, changedMeanwhile: 0, refused: 0, unreadable: 0 };
    const current = this.secrets.currentKeyId;
    for (const column of this.columns) {
      for (const { label } of await column.labels()) {
        if (label === null || this.secrets.configuredKeyId(label) === null) {
          totals.unreadable += 1;
          continue;
        }
        if (label.version === 'v2' && label.keyId === current) continue;
        let after: string | null = null;
        for (;;) {
          if (options.shouldStop?.()) return totals;
          const batch = await column.batch(label, after, batchSize);
          if (batch.length === 0) break;
          after = batch[batch.length - 1].value;
          const rewrites: Rewrite[] = [];
          for (const { row, value } of batch) {
            const rewrite = this.rewrite(column, row, value);
            if (rewrite) rewrites.push(rewrite);
            else totals.refused += 1;
          }
          await options.beforeWrite?.({ column: column.name, rows: batch.map(({ row }) => row) });
          const written = await column.write(rewrites);
          totals.rewritten += written;
          totals.changedMeanwhile += rewrites.length - written;
          options.onBatch?.({ ...totals, column: column.name });
          if (batch.length < batchSize) break;
        }
      }
    }
    return totals;
  }

  /** The value under the current key, bound to its row (and its hashes under the same key); null when it does not open. */
  private rewrite(column: StoredCiphertexts, row: Record<string, unknown>, value: string): Rewrite | null {
    const binding = column.bindingOf(row);
    let plaintext: string;
    try {
      plaintext = this.secrets.open(value, binding);
    } catch (error) {
      if (error instanceof CiphertextRefused) return null;
      throw error;
    }
    const hashes: Record<string, string | null> = {};
    for (const property of column.declaration.hashes ?? [])
      hashes[property] = row[property] === null ? null : this.secrets.hash(plaintext);
    return { row, from: value, to: this.secrets.seal(plaintext, binding), hashes };
  }
}
