import { getMetadataArgsStorage, type ValueTransformer } from 'typeorm';
import { rawBoolean, rawDate, rawNumber } from './raw-values';

/** What a raw row's value is turned into, from the entity column's declared type. */
type Kind = 'boolean' | 'date' | 'number' | 'string';

interface ColumnInfo {
  name: string;
  kind: Kind;
  /** The column's own transformer: what TypeORM's entity reads apply after the driver's value. */
  from?: (value: unknown) => unknown;
}

/**
 * A table as plain SQL sees it, with every name taken from its TypeORM entity
 * (ADR 0005): column lists and row mapping come from the one schema definition,
 * so a renamed column cannot leave a hand-written statement behind.
 */
export class Table<T> {
  readonly name: string;
  private readonly byProperty: Map<keyof T & string, ColumnInfo>;

  constructor(entity: abstract new () => T) {
    const storage = getMetadataArgsStorage();
    const table = storage.tables.find((candidate) => candidate.target === entity);
    if (!table?.name) throw new Error(`${entity.name} is not a named @Entity`);
    this.name = table.name;
    this.byProperty = new Map(
      storage.columns
        .filter((column) => column.target === entity)
        .map((column) => [
          column.propertyName as keyof T & string,
          {
            name: column.options.name ?? column.propertyName,
            kind: kindOf(column.options.type),
            from: transformerOf(column.options.transformer),
          },
        ]),
    );
  }

  /** The column of a property: `table.column('lastTotpStep')` is `last_totp_step`. */
  column(property: keyof T & string): string {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.name} has no column for ${property}`);
    return column.name;
  }

  /** A comma-separated column list, in the order given. */
  columns(...properties: (keyof T & string)[]): string {
    return properties.map((property) => this.column(property)).join(', ');
  }

  /** `a = ?, b = ?` for an UPDATE's SET. */
  assignments(...properties: (keyof T & string)[]): string {
    return properties.map((property) => `${this.column(property)} = ?`).join(', ');
  }

  /** A raw row (as both drivers return it) read with `columns(...properties)`, as the entity's values. */
  row<K extends keyof T & string>(raw: Record<string, unknown>, ...properties: K[]): Pick<T, K> {
    const result = {} as Pick<T, K>;
    for (const property of properties) {
      const column = this.byProperty.get(property)!;
      const value = raw[column.name];
      const read = value === null || value === undefined ? null : convert(column.kind, value);
      // As TypeORM reads the entity: a sign counter stored as bigint is a number there, not a string.
      (result as Record<string, unknown>)[property] = column.from ? column.from(read) : read;
    }
    return result;
  }

  /** Every property with a column, in declaration order. */
  get properties(): (keyof T & string)[] {
    return [...this.byProperty.keys()];
  }
}

/** A column's transformers' `from`, applied last to first as TypeORM applies them. */
function transformerOf(transformer: ValueTransformer | ValueTransformer[] | undefined) {
  if (!transformer) return undefined;
  const all = Array.isArray(transformer) ? transformer : [transformer];
  return (value: unknown) => all.reduceRight<unknown>((read, one) => one.from(read), value);
}

function kindOf(type: unknown): Kind {
  switch (type) {
    case 'boolean':
      return 'boolean';
    case 'datetime':
    case 'timestamp':
      return 'date';
    case 'int':
    case 'integer':
    case 'smallint':
    case 'tinyint':
    case Number:
      return 'number';
    default:
      // varchar, text, bigint (read as strings: bigNumberStrings), enums.
      return 'string';
  }
}

function convert(kind: Kind, value: unknown): unknown {
  switch (kind) {
    case 'boolean':
      return rawBoolean(value);
    case 'date':
      return rawDate(value);
    case 'number':
      return rawNumber(value);
    case 'string':
      return String(value);
  }
}
