import DataLoader from 'dataloader';
import type { Actor, Caller } from '../callers/caller';

/** What every resolver gets about the request. */
export interface Context {
  caller: Caller | null;
  /** The caller and its address, for audit events. */
  actor: Actor;
  requestId: string;
  /**
   * A per-request batching loader, made on first use under `name` (a user's
   * status, a factor's own reads), so a page of members costs a fixed number of queries.
   */
  batch<V>(name: string, load: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V>;
}

export function createContext(caller: Caller | null, clientIp: string, requestId: string): Context {
  const batches = new Map<string, DataLoader<string, unknown>>();
  return {
    caller,
    actor: { actorId: caller?.subject ?? null, clientIp },
    requestId,
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
