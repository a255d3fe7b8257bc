import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { Database } from '../infra/db/database';
import { KeySetRecord } from './key-set.entity';

/** One kind of key a user has: what an authenticator policy judges of a credential. */
export interface KeyKind {
  aaguid: string;
  attested: boolean;
  deviceBound: boolean;
}

/** An organization's authenticator policy (contract "Authenticators"). */
export interface AuthenticatorPolicyValue {
  /** Empty: any model. */
  allowedAaguids: readonly string[];
  requireDeviceBound: boolean;
}

/** What the judgment needs of the loaded Metadata Service blob (ModelCatalog). */
export interface CompromiseReport {
  isCompromised(aaguid: string): boolean;
}

/** The key set of no key: no row, never judged accepted. */
export const NO_KEYS = 0;

/** An organization's stored policy, read. */
export function policyOf(organization: {
  allowedAaguids: string;
  requireDeviceBound: boolean;
}): AuthenticatorPolicyValue {
  return {
    allowedAaguids: organization.allowedAaguids ? organization.allowedAaguids.split(',') : [],
    requireDeviceBound: organization.requireDeviceBound,
  };
}

/**
 * A credential of this kind meets the policy: listed and attested (or no list),
 * device-bound when required, and of a model the blob does not report
 * compromised. A model is judged by its AAGUID even unattested: an AAGUID the
 * blob reports compromised counts for nothing, whoever claims it.
 */
export function acceptsKind(policy: AuthenticatorPolicyValue, report: CompromiseReport, kind: KeyKind): boolean {
  if (report.isCompromised(kind.aaguid)) return false;
  if (policy.requireDeviceBound && !kind.deviceBound) return false;
  return policy.allowedAaguids.length === 0 || (kind.attested && policy.allowedAaguids.includes(kind.aaguid));
}

/** Some credential of the set meets the policy. */
export const acceptsKinds = (policy: AuthenticatorPolicyValue, report: CompromiseReport, kinds: readonly KeyKind[]) =>
  kinds.some((kind) => acceptsKind(policy, report, kind));

const kindText = (kind: KeyKind) =>
  `${kind.aaguid.toLowerCase()}:${kind.attested ? 'a' : 'u'}:${kind.deviceBound ? 'd' : 's'}`;

/** The set's canonical text: its distinct kinds, sorted. */
export function keySetText(kinds: readonly KeyKind[]): string {
  return [...new Set(kinds.map(kindText))].sort().join(',');
}

export function parseKeySetText(text: string): KeyKind[] {
  if (!text) return [];
  return text.split(',').map((part) => {
    const [aaguid, attested, deviceBound] = part.split(':');
    return { aaguid, attested: attested === 'a', deviceBound: deviceBound === 'd' };
  });
}

/**
 * Key sets, interned (docs/adr/0021-key-sets.md): a user's credentials reduced to
 * the kinds a policy judges, one row per distinct set, its id copied on the user
 * and each membership. Rows never change, so every read is kept in memory.
 */
export class KeySets {
  private readonly known = new Map<number, readonly KeyKind[]>([[NO_KEYS, []]]);

  constructor(private readonly database: Database) {}

  /**
   * The id of the set of these kinds, written when new. Inside the caller's
   * transaction, before it locks any organization. A set that exists is read
   * without a lock (its row never changes). A new one: INSERT IGNORE waits only
   * for another writer of the same set, and a shared locking read after it sees
   * the row committed. Never an exclusive locking read: before the INSERT two of
   * them on the same missing digest both hold the gap and their INSERTs
   * deadlock; after it, the writers that were ignored hold shared locks on the
   * row, and two upgrading them deadlock.
   */
  async intern(manager: EntityManager, kinds: readonly KeyKind[]): Promise<number> {
    const text = keySetText(kinds);
    if (!text) return NO_KEYS;
    const digest = createHash('sha256').update(text).digest('hex');
    const query = () => manager.createQueryBuilder(KeySetRecord, 'keySet').where('keySet.digest = :digest', { digest });
    let found = await query().getOne();
    if (!found) {
      await manager
        .createQueryBuilder()
        .insert()
        .into(KeySetRecord)
        .values({ digest, kinds: text })
        .orIgnore()
        .execute();
      found = await this.database.lockForShare(query()).getOne();
    }
    if (!found) throw new Error('a key set was not written');
    this.known.set(found.id, parseKeySetText(found.kinds));
    return found.id;
  }

  /** The kinds of each set (unknown ids: no kinds), from memory, reading the ones not seen yet. */
  async kindsOf(manager: EntityManager, ids: Iterable<number>): Promise<Map<number, readonly KeyKind[]>> {
    const wanted = [...new Set(ids)];
    const missing = wanted.filter((id) => !this.known.has(id));
    if (missing.length > 0) {
      const rows = await manager.find(KeySetRecord, { where: { id: In(missing) } });
      for (const row of rows) this.known.set(row.id, parseKeySetText(row.kinds));
    }
    return new Map(wanted.map((id) => [id, this.known.get(id) ?? []]));
  }

  /** A set whose text the caller already read (a join): remembered, and parsed once. */
  remember(id: number, text: string | null): readonly KeyKind[] {
    let kinds = this.known.get(id);
    if (!kinds) {
      kinds = text ? parseKeySetText(text) : [];
      if (text) this.known.set(id, kinds);
    }
    return kinds;
  }
}
