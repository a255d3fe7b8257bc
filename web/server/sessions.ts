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

/**
 * Browser sessions, in this process's memory: the cookie holds only a random
 * id (256 bits); tokens, challenge ids and who is signed in stay here. One
 * instance only: several instances would keep this in a shared store (Redis).
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly idleMs: number,
    private readonly maxMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  create(): Session {
    const now = Date.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, or undefined (unknown, idle too long, or too old). */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = Date.now();
    if (now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxMs) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  /** A fresh id for the same session (at every sign-in and sign-out, so a planted id is worth nothing). */
  rotate(session: Session): Session {
    this.sessions.delete(session.id);
    const now = Date.now();
    const rotated: Session = { ...session, id: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    this.sessions.set(rotated.id, rotated);
    return rotated;
  }

  destroy(session: Session): void {
    this.sessions.delete(session.id);
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.maxMs / 1000);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, session] of this.sessions) {
      if (now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxMs) this.sessions.delete(id);
    }
  }
}

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
