import DataLoader from 'dataloader';
import type { Actor } from '../audit/audit-log';
import type { Caller } from '../callers/caller';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';

/** What every resolver gets about the request. */
export interface Context {
  caller: Caller | null;
  /** The caller and its address, for audit events. */
  actor: Actor;
  requestId: string;
  /** Per-request batching, so a page of members costs a fixed number of queries. */
  loaders: {
    twoFactorStatus: DataLoader<string, TwoFactorStatus>;
  };
}

export function createContext(caller: Caller | null, clientIp: string, requestId: string, statuses: TwoFactorStatusReader): Context {
  return {
    caller,
    actor: { actorId: caller?.subject ?? null, clientIp },
    requestId,
    loaders: {
      twoFactorStatus: new DataLoader((ids) => statuses.read(ids), { maxBatchSize: 500 }),
    },
  };
}
