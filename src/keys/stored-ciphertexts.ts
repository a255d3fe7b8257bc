import { type CiphertextLabel, labelOf } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import { Table } from '../infra/db/table';
import type { CiphertextDeclaration } from '../module';

/** One stored value with what its binding and a compare-and-set need: the row's key, the properties read, the value. */
export interface StoredValue {
  row: Record<string, unknown>;
  value: string;
}

/** A value found by the skip scan: the first of its label (version and key id), or a malformed one. */
export interface LabelledValue extends StoredValue {
  label: CiphertextLabel | null;
}

/** A re-encrypted value to write, if the row still holds `from`. */
export interface Rewrite {
  row: Record<string, unknown>;
  from: string;
  to: string;
  /** The hash columns' new values, by property (null: the row has none, and keeps none). */
  hashes: Record<string, string | null>;
}

/**
 * One declared column of ciphertexts (src/module.ts CiphertextDeclaration) as
 * plain SQL sees it (names from the entity, ADR 0005). Every read is a range of
 * the column's index: stored values begin `v<version>.<key id>.`, so the values
 * under one key are one range, and the distinct key ids are found by skipping
 * from one range to the next (a few index lookups, whatever the row count).
 */
export class StoredCiphertexts {
  private readonly table: Table<Record<string, unknown>>;
  private readonly selected: string;
  private readonly column: string;

  constructor(
    readonly declaration: CiphertextDeclaration,
    private readonly database: Database,
  ) {
    this.table = new Table(declaration.entity as abstract new () => Record<string, unknown>);
    this.selected = this.table.columns(...this.properties, declaration.column);
    this.column = this.table.column(declaration.column);
  }

  /** `table.column`, for messages and logs. */
  get name(): string {
    return `${this.table.name}.${this.column}`;
  }

  /** The binding a row's value is sealed to. */
  bindingOf(row: Record<string, unknown>): ReturnType<CiphertextDeclaration['binding']> {
    return this.declaration.binding(row);
  }

  /**
   * Every label (version and key id) stored, each with its first value: a skip
   * scan over the column's index, within the ranges of v1 and v2 values
   * (anything else is no value of ours, refused when read). A value of those
   * ranges with a malformed key id is listed with a null label.
   */
  async labels(): Promise<LabelledValue[]> {
    const found: LabelledValue[] = [];
    for (const version of ['v1', 'v2'] as const) {
      const upper = `${version}/`;
      let bound = `${version}.`;
      let inclusive = true;
      for (;;) {
        const condition = `${this.column} ${inclusive ? '>=' : '>'} ? AND ${this.column} < ?`;
        const [next] = await this.select(condition, [bound, upper], 1);
        if (!next) break;
        const label = labelOf(next.value);
        found.push({ ...next, label });
        // Past every value of this label ('/' follows '.'), or past this one malformed value.
        [bound, inclusive] = label ? [`${label.version}.${label.keyId}/`, true] : [next.value, false];
      }
    }
    return found;
  }

  /** How many values carry this label (an index range count). */
  async count(label: CiphertextLabel): Promise<number> {
    const [lower, upper] = rangeOf(label);
    const [row] = await this.database.run((manager) =>
      manager.query(`SELECT COUNT(*) AS n FROM ${this.table.name} WHERE ${this.column} >= ? AND ${this.column} < ?`, [
        lower,
        upper,
      ]),
    );
    return Number((row as { n: unknown }).n);
  }

  /** Up to `limit` values of the label after `after` (a value of it), in the index's order. */
  batch(label: CiphertextLabel, after: string | null, limit: number): Promise<StoredValue[]> {
    const [lower, upper] = rangeOf(label);
    return after === null
      ? this.select(`${this.column} >= ? AND ${this.column} < ?`, [lower, upper], limit)
      : this.select(`${this.column} > ? AND ${this.column} < ?`, [after, upper], limit);
  }

  /**
   * Writes each rewrite where its row still holds the value it was read with
   * (compare and set: a row changed meanwhile keeps its change), in one
   * statement; returns the rows written.
   */
  async write(rewrites: Rewrite[]): Promise<number> {
    if (rewrites.length === 0) return 0;
    const { key, hashes = [] } = this.declaration;
    const keyMatch = key.map((property) => `${this.table.column(property)} = ?`).join(' AND ');
    const keyValues = (rewrite: Rewrite) => key.map((property) => rewrite.row[property]);
    const caseOf = (column: string, value: (rewrite: Rewrite) => string | null) => ({
      sql: `${column} = CASE ${rewrites.map(() => `WHEN ${keyMatch} THEN ?`).join(' ')} ELSE ${column} END`,
      parameters: rewrites.flatMap((rewrite) => [...keyValues(rewrite), value(rewrite)]),
    });
    const sets = [
      caseOf(this.column, (rewrite) => rewrite.to),
      ...hashes.map((property) => caseOf(this.table.column(property), (rewrite) => rewrite.hashes[property])),
    ];
    const where = rewrites.map(() => `(${keyMatch} AND ${this.column} = ?)`).join(' OR ');
    const sql = `UPDATE ${this.table.name} SET ${sets.map((set) => set.sql).join(', ')} WHERE ${where}`;
    const parameters = [
      ...sets.flatMap((set) => set.parameters),
      ...rewrites.flatMap((rewrite) => [...keyValues(rewrite), rewrite.from]),
    ];
    return this.database.transaction((manager) => this.database.write(manager, sql, parameters));
  }

  /** What a row is read with: its key, what the binding reads, and the hash columns (to keep a missing hash missing). */
  private get properties(): string[] {
    const { key, reads = [], hashes = [] } = this.declaration;
    return [...new Set([...key, ...reads, ...hashes])];
  }

  private async select(condition: string, parameters: unknown[], limit: number): Promise<StoredValue[]> {
    const rows = (await this.database.run((manager) =>
      manager.query(
        `SELECT ${this.selected} FROM ${this.table.name} WHERE ${condition} ORDER BY ${this.column} LIMIT ${Number(limit)}`,
        parameters,
      ),
    )) as Record<string, unknown>[];
    return rows.map((raw) => ({
      row: this.table.row(raw, ...this.properties),
      value: String(raw[this.column]),
    }));
  }
}

/** The values of a label: from `v2.k1.` up to (not with) `v2.k1/`. */
function rangeOf(label: CiphertextLabel): [string, string] {
  return [`${label.version}.${label.keyId}.`, `${label.version}.${label.keyId}/`];
}
