import type { TwoFactorMethod } from './two-factor-method';
import type { TwoFactorStatus } from './user.types';

/**
 * A second factor's part of the status read, declared in the factor's folder:
 * its columns, read in the one query of every status (a user `u`), and what the
 * status shows of them. users/ names no factor's table.
 */
export interface StatusPart {
  /** Listed in `methods` when the user has it (a part without one only fills fields). */
  method?: TwoFactorMethod;
  /** Select expressions over `u` and the join's alias, each aliased with a prefix of the factor's own. */
  select: string;
  /** A LEFT JOIN, when the expressions read the factor's table by `u.id`. */
  join?: string;
  /** From the row (raw, as either driver returns it): whether the user has it, and what the status shows of it. */
  read(row: Record<string, unknown>, twoFactorEnabled: boolean): { has: boolean; shows?: Partial<TwoFactorStatus> };
}

/** Where the status reader finds the parts: every factor's, in the order of the module list. */
export interface StatusParts {
  statusParts(): readonly StatusPart[];
}
