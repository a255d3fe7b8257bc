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
  /** A per-request batching loader of a factor's own reads, made on first use under `name`. */
  batch<V>(name: string, load: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V>;
}

export function createContext(
  caller: Caller | null,
  clientIp: string,
  requestId: string,
  statuses: TwoFactorStatusReader,
): Context {
  const batches = new Map<string, DataLoader<string, unknown>>();
  return {
    caller,
    actor: { actorId: caller?.subject ?? null, clientIp },
    requestId,
    loaders: {
      twoFactorStatus: new DataLoader((ids) => statuses.read(ids), { maxBatchSize: 500 }),
    },
    batch<V>(name: string, load: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
      let loader = batches.get(name) as DataLoader<string, V> | undefined;
      if (!loader) {
        loader = new DataLoader<string, V>(load, { maxBatchSize: 500 });
        batches.set(name, loader as DataLoader<string, unknown>);
      }
      return loader;
    },
  };
}
