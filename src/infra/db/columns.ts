import { Column, type ColumnOptions, PrimaryColumn } from 'typeorm';

/**
 * Ids come from the upstream system and are compared byte for byte (`Alice` and
 * `alice` are two users), so id columns are ASCII with binary collation. SQLite
 * compares bytes already; its DataSource drops these MySQL-only options.
 */
const idOptions: ColumnOptions = { type: 'varchar', length: 128, charset: 'ascii', collation: 'ascii_bin' };

export const IdColumn = (options: ColumnOptions = {}) => Column({ ...idOptions, ...options });
export const PrimaryIdColumn = (options: { name?: string } = {}) =>
  PrimaryColumn({ type: 'varchar', length: 128, charset: 'ascii', collation: 'ascii_bin', ...options });

/** Millisecond precision, stored in UTC (the DataSource sets the session time zone). */
export const TimestampColumn = (options: ColumnOptions = {}) => Column({ type: 'datetime', precision: 3, ...options });

export const CiphertextColumn = (options: ColumnOptions = {}) =>
  Column({ type: 'varchar', length: 255, charset: 'ascii', collation: 'ascii_bin', ...options });

export const HashColumn = (options: ColumnOptions = {}) =>
  Column({ type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin', ...options });
