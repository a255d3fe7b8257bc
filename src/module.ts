import type { FastifyInstance } from 'fastify';

/**
 * One capability of the service as it offers itself to the composition root
 * (Kratos' registry; docs/adr/0015-modules-wire-themselves.md): its tables, its
 * migrations, its GraphQL resolvers, the services it gives the others, and what
 * it builds from the services it needs. Every module is listed once, in
 * src/modules.ts; the data source, the schema and src/app.ts read that list.
 *
 * `Needs` is the module's own, narrow view of the registry (one-method
 * interfaces where it needs one thing); `Gives` the services other modules may
 * need of it. This file knows no module: it is the ground the modules stand on.
 */
export interface Module<Needs = unknown, Gives = Record<never, never>, Builds extends Built = Built> {
  readonly name: string;
  /** TypeORM entities of the module's tables. */
  readonly entities?: readonly Function[];
  /** Migrations of those tables written after modules owned them (ordered with every other by their timestamp). */
  readonly migrations?: readonly Function[];
  /** Resolver classes, for the schema; their instances come from `create`. */
  readonly resolvers?: readonly Function[];
  /**
   * The services the module gives, each made on first use from the registry
   * (so modules may use each other's services whatever their order in the list).
   */
  readonly provides?: { readonly [K in keyof Gives]: (registry: Needs) => Gives[K] };
  /** For a second factor's module: its audited actions, and what they mean to the signals (webhooks, OCSF). */
  readonly signals?: FactorSignals;
  /** The module's columns that hold ciphertexts: key rotation re-encrypts them without naming the module (ADR 0022). */
  readonly ciphertexts?: readonly CiphertextDeclaration[];
  /**
   * What the module builds once every service can be had: its resolvers and
   * background work (awaited, in the list's order, before the server starts: a
   * module that must check or load something at start does it here).
   */
  create?(registry: Needs): Builds | Promise<Builds>;
}

/** What a module built. */
export interface Built {
  resolvers?: object[];
  /** Plain HTTP routes beside GraphQL (the OCSF feed): registered with the server, each verifying its callers. */
  routes?: Route[];
  /** Work that runs in the background on every instance (PeriodicJob and the like). */
  background?: Background[];
}

/** Registers a plain route on the HTTP server (a module verifies its callers with the registry's `tokens`). */
export type Route = (fastify: FastifyInstance) => void;

export interface Background {
  /** Its name, for tests that run this one alone (`App.runBackgroundJob`). */
  name?: string;
  start(): void;
  /** Runs its work now (tests; `App.runBackgroundJobs`). */
  runOnce?(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The registry of one app: the adapters it was given, then every module's
 * services, each made once, on first use. A service nobody provides is an
 * error at boot (when a module's `create` asks for it), naming it.
 */
export function createRegistry<Registry extends object>(
  adapters: object,
  modules: readonly Module<never, unknown>[],
): Registry {
  const providers = new Map<string, { module: string; make: (registry: Registry) => unknown }>();
  for (const module of modules) {
    for (const [name, make] of Object.entries(module.provides ?? {})) {
      const existing = providers.get(name);
      if (existing || name in adapters) {
        throw new Error(`${module.name} provides ${name}, which ${existing?.module ?? 'the adapters'} already provide`);
      }
      providers.set(name, { module: module.name, make: make as (registry: Registry) => unknown });
    }
  }
  const made = new Map<string, unknown>(Object.entries(adapters));
  const making = new Set<string>();
  const registry = new Proxy({} as Registry, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      if (made.has(name)) return made.get(name);
      const provider = providers.get(name);
      if (!provider) throw new Error(`no module provides ${name}`);
      if (making.has(name)) throw new Error(`${name} needs itself (through ${[...making].join(' → ')})`);
      making.add(name);
      try {
        const service = provider.make(registry);
        made.set(name, service);
        return service;
      } finally {
        making.delete(name);
      }
    },
    has: (_target, name) => typeof name === 'string' && (made.has(name) || providers.has(name)),
  });
  return registry;
}

/**
 * A second factor's audited actions, as the signals made from the audit log
 * (webhook events, OCSF records) read them: every factor's alike, so no signal
 * names a factor. Declared in the factor's folder.
 */
export interface FactorSignals {
  /** The factor's TwoFactorMethod value, as events name it. */
  method: string;
  /** OCSF 1.7.0's auth_factor for it. */
  ocsf: { factor_type_id: number; factor_type: string; is_totp?: boolean };
  /** Each of its audit actions (also declared in AuditActions, audit/audit-log.ts). */
  actions: Readonly<Record<string, FactorAction>>;
}

export interface FactorAction {
  /** What happened to the factor. */
  change: 'added' | 'removed' | 'renamed' | 'used' | 'sent' | 'suspected' | 'viewed';
  /** The OCSF record's message, in our words. */
  message: string;
  /** The webhook event, where the contract names one besides factor.added and factor.removed. */
  event?: string;
  /** OCSF's "Other" activity name, for a change OCSF has no activity for. */
  other?: string;
}

/**
 * A column of ciphertexts (SecretBox), as key rotation and the key checks at
 * start see it (docs/adr/0022-ciphertexts-bound-and-rotated.md): every value
 * in it not under the current key is re-encrypted, in batches, each row
 * compared and set on its old value. Declared by the module that owns the
 * table, with the associated data it seals its values to.
 */
export interface CiphertextDeclaration<Row = any> {
  /** The TypeORM entity of the table; column names come from it. */
  readonly entity: abstract new () => Row;
  /** The properties that find one row (its primary key). */
  readonly key: readonly (keyof Row & string)[];
  /** The property that holds the ciphertext (NULL allowed: nothing to do). Index it, so the key ids in use are read cheaply. */
  readonly column: keyof Row & string;
  /** Other properties `binding` reads. */
  readonly reads?: readonly (keyof Row & string)[];
  /** What the value is sealed to (SecretBox's SecretBinding): the same the module seals with. */
  binding(row: Row): { purpose: string; row: string; userId?: string };
  /** Properties that hold the keyed hash (SecretBox.hash) of the same plaintext: rewritten with it under the same key (a NULL one stays NULL). */
  readonly hashes?: readonly (keyof Row & string)[];
}

/** Type-checks a declaration against its entity's properties. */
export const ciphertextsOf = <Row>(declaration: CiphertextDeclaration<Row>): CiphertextDeclaration => declaration;
