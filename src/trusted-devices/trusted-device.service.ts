import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditLog } from '../audit/audit-log';
import type { SignInStrength } from '../callers/amr';
import type { Actor } from '../callers/caller';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import { randomId } from '../infra/crypto/random';
import type { Database, Statement } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import { parsePlainText } from '../plain-text';
import type { TrustedDeviceRecord } from './trusted-device.entity';
import type { TrustedDeviceRepository } from './trusted-device.repository';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A device token as this service issues it: 32 random bytes, base64url (43 characters). Anything else is no token. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** A device id as this service issues it (randomId). */
const ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** What the name is when the login service gives none. */
const UNNAMED = 'Unnamed device';

export interface TrustedDeviceServiceDependencies {
  database: Database;
  devices: TrustedDeviceRepository;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** TRUSTED_DEVICE_DAYS: 0 turns the feature off. */
  days: number;
}

/** A token just issued: shown once, never stored. */
export interface IssuedDeviceToken {
  token: string;
  expiresAt: Date;
}

/**
 * "Remember this browser". At login, a verified second factor may leave a
 * device token behind (256 random bits, stored only as a keyed hash, bound to
 * the user, expiring TRUSTED_DEVICE_DAYS after creation); later, the login
 * service presents it instead of asking for a code. It skips the second factor
 * only while every organization of the user allows it, and all of a user's
 * devices go whenever the factors they stood for change
 * (TwoFactorLifecycle.revokeTrustedDevices).
 */
export class TrustedDeviceService {
  constructor(private readonly deps: TrustedDeviceServiceDependencies) {}

  get enabled(): boolean {
    return this.deps.days > 0;
  }

  /** The name a login gives (checked before its answer is), or the default. */
  parseName(name: string | null | undefined): string {
    return name === null || name === undefined
      ? UNNAMED
      : parsePlainText(name, 'deviceName', LIMITS.maxDeviceNameLength);
  }

  /**
   * Inside a login's success transaction (which holds the user's row lock):
   * a new trusted device, unless the feature is off or an organization of the
   * user forbids it (then null). It keeps `signInStrength`, the strength of
   * this sign-in, which its later starts never exceed. The user's expired
   * devices go, and past LIMITS.trustedDevicesPerUser the oldest.
   */
  async rememberIn(
    manager: EntityManager,
    actor: Actor,
    userId: string,
    name: string,
    signInStrength: SignInStrength,
    now: Date,
  ): Promise<IssuedDeviceToken | null> {
    const { devices, audit } = this.deps;
    if (!this.enabled || !(await devices.organizationsAllow(manager, userId))) return null;
    await devices.deleteExpiredOf(manager, userId, now);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.deps.days * DAY_MS);
    await devices.insert(manager, {
      id: randomId(),
      userId,
      tokenHash: this.deps.secrets.hash(deviceTokenHashInput(token)),
      name,
      createdAt: now,
      expiresAt,
      lastUsedAt: null,
      signInStrength,
    });
    await audit.record(manager, actor, { action: 'TRUSTED_DEVICE_ADDED', userId, reason: name }, now);
    const beyond = await devices.idsBeyond(manager, userId, LIMITS.trustedDevicesPerUser);
    if (beyond.length > 0) {
      await devices.deleteMany(manager, beyond);
      await audit.record(
        manager,
        actor,
        {
          action: 'TRUSTED_DEVICES_REVOKED',
          userId,
          reason: `${beyond.length} oldest: more than ${LIMITS.trustedDevicesPerUser} devices`,
        },
        now,
      );
    }
    return { token, expiresAt };
  }

  /**
   * A login with a device token: when it is a valid, unexpired token of this
   * user and every organization of the user allows trusted devices (one query
   * decides), the device's use is recorded and audited, and the answer is the
   * strength of the sign-in that remembered it. Anything else (another user's
   * token, expired, revoked, forbidden, malformed) is null, and nothing tells
   * which.
   */
  async signIn(actor: Actor, userId: string, token: string): Promise<{ signInStrength: string } | null> {
    return (await this.signInReading(actor, userId, token, [])).trusted;
  }

  /**
   * The same, with `reads` of the caller's sent in the same round trip as the
   * device's (a login start reads the user's status with it: ADR 0013); their
   * rows, or null when the token was no token at all (nothing was read).
   */
  async signInReading(
    actor: Actor,
    userId: string,
    token: string,
    reads: Statement[],
  ): Promise<{ trusted: { signInStrength: string } | null; rows: Record<string, unknown>[][] | null }> {
    if (!this.enabled || !TOKEN_PATTERN.test(token)) return { trusted: null, rows: null };
    const { database, devices, secrets, audit, clock } = this.deps;
    const now = clock.now();
    const hashes = secrets.lookupHashes(deviceTokenHashInput(token));
    const usable = devices.usableReads(userId, hashes, now);
    return database.transaction(async (manager) => {
      const rows = await database.read(manager, [...usable, ...reads]);
      const device = devices.usableOf(rows.slice(0, usable.length));
      const theirs = rows.slice(usable.length);
      if (!device) return { trusted: null, rows: theirs };
      await devices.recordUse(manager, device.id, now);
      await audit.record(manager, actor, { action: 'TRUSTED_DEVICE_USED', userId, reason: device.name }, now);
      return { trusted: { signInStrength: device.signInStrength }, rows: theirs };
    });
  }

  /** Unexpired devices of these users, newest first. */
  list(userIds: readonly string[]): Promise<TrustedDeviceRecord[]> {
    const now = this.deps.clock.now();
    return this.deps.database.run((manager) => this.deps.devices.listUnexpired(manager, userIds, now));
  }

  /** The user's own device; false when it has none of that id (another user's included). */
  async revoke(actor: Actor, userId: string, id: string): Promise<boolean> {
    if (!ID_PATTERN.test(id)) return false;
    const { database, devices, audit, clock } = this.deps;
    return database.transaction(async (manager) => {
      const now = clock.now();
      const revoked = await devices.delete(manager, userId, id);
      if (!revoked) return false;
      await audit.record(manager, actor, { action: 'TRUSTED_DEVICE_REVOKED', userId, reason: revoked.name }, now);
      return true;
    });
  }

  /** Every device of the user, at the user's request; the number revoked. */
  revokeAll(actor: Actor, userId: string): Promise<number> {
    return this.deps.database.transaction((manager) =>
      this.revokeAllIn(manager, actor, userId, this.deps.clock.now(), 'revoked by the user'),
    );
  }

  /** Inside the caller's transaction: every device of the user goes, audited when there was any. */
  async revokeAllIn(manager: EntityManager, actor: Actor, userId: string, now: Date, why: string): Promise<number> {
    const count = await this.deps.devices.deleteAll(manager, userId);
    if (count > 0) {
      await this.deps.audit.record(
        manager,
        actor,
        { action: 'TRUSTED_DEVICES_REVOKED', userId, reason: `${count} ${count === 1 ? 'device' : 'devices'}: ${why}` },
        now,
      );
    }
    return count;
  }

  /**
   * Deletes up to LIMITS.trustedDevicePurgeBatch expired devices of anyone, in
   * a transaction of its own: run after each new device commits, so expired
   * rows cannot pile up while devices are created (each creation removes up to
   * a batch; each row expires once). Best effort: a failure is logged.
   */
  async purgeExpired(): Promise<number> {
    const { database, devices, clock, logger } = this.deps;
    try {
      const now = clock.now();
      const ids = await database.run((manager) => devices.expiredIds(manager, now, LIMITS.trustedDevicePurgeBatch));
      if (ids.length === 0) return 0;
      return await database.transaction((manager) => devices.deleteMany(manager, ids, now));
    } catch (error) {
      logger.warn({ err: error }, 'could not purge expired trusted devices; the next new device tries again');
      return 0;
    }
  }
}

/**
 * What is hashed (SecretBox.hash): the token in a family of its own, so its hash
 * is comparable to no other keyed hash. Exported for the bench's seeding.
 */
export const deviceTokenHashInput = (token: string) => `trusted-device\u0000${token}`;
