import { randomBytes } from 'node:crypto';

/** A login in progress: the challenge this server opened after the password step. */
export interface PendingLogin {
  userId: string;
  challengeId: string;
  /** When the challenge expires (ms since the epoch). */
  expiresAt: number;
  methods: string[];
  phoneNumberMasked: string | null;
  webAuthnOptions: unknown;
}

export interface SignedInUser {
  id: string;
  /** How the user signed in: `pwd` plus what the assertion's amr said (otp, sms, recovery, hwk, device...). */
  amr: string[];
  signedInAt: Date;
  /** The bearer token for the service, minted for this session and renewed before it expires. */
  token?: { value: string; expiresAt: number };
}

export interface Session {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  pendingLogin?: PendingLogin;
  user?: SignedInUser;
}

export interface SessionLimits {
  idleSeconds: number;
  maxSeconds: number;
  /** At most this many sessions; a new one past it evicts the least recently used. */
  maxCount: number;
  /** How often expired sessions are swept. */
  sweepSeconds: number;
}

/**
 * Browser sessions, in this process's memory: the cookie holds only a random
 * id (256 bits); tokens, challenge ids and who is signed in stay here. One
 * instance only: several instances would keep this in a shared store (Redis).
 * Bounded: the map is kept in least-recently-used order (each use moves a
 * session to the end), so the oldest-used goes first when it is full, and
 * expired sessions are swept.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.idleMs = limits.idleSeconds * 1000;
    this.maxMs = limits.maxSeconds * 1000;
    this.sweeper = setInterval(() => this.sweep(), limits.sweepSeconds * 1000);
    this.sweeper.unref();
  }

  create(): Session {
    const now = this.now();
    return this.add({ id: newId(), createdAt: now, lastSeenAt: now });
  }

  /** The live session with this id, or undefined (unknown, idle too long, or too old). */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    this.sessions.delete(id);
    if (this.expired(session, now)) return undefined;
    session.lastSeenAt = now;
    this.sessions.set(id, session); // now the most recently used
    return session;
  }

  /** A fresh id for the same session (at every sign-in and sign-out, so a planted id is worth nothing). */
  rotate(session: Session): Session {
    this.sessions.delete(session.id);
    const now = this.now();
    return this.add({ ...session, id: newId(), createdAt: now, lastSeenAt: now });
  }

  destroy(session: Session): void {
    this.sessions.delete(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  get maxAgeSeconds(): number {
    return this.limits.maxSeconds;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** Drops every expired session (run every `sweepSeconds`). */
  sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (this.expired(session, now)) this.sessions.delete(id);
  }

  private add(session: Session): Session {
    // Full: the least recently used goes (the first in the map's order).
    while (this.sessions.size >= this.limits.maxCount) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) break;
      this.sessions.delete(oldest.value);
    }
    this.sessions.set(session.id, session);
    return session;
  }

  private expired(session: Session, now: number): boolean {
    return now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxMs;
  }
}

const newId = () => randomBytes(32).toString('base64url');

/** Remembers each assertion's jti until it expires: a login service accepts each once. */
export class UsedOnce {
  private readonly used = new Map<string, number>();

  /** True the first time; false when this jti was seen before. */
  mark(jti: string, expiresAtMs: number): boolean {
    const now = Date.now();
    for (const [key, expiry] of this.used) if (expiry < now) this.used.delete(key);
    if (this.used.has(jti)) return false;
    this.used.set(jti, expiresAtMs);
    return true;
  }
}
