import type { Database } from '../infra/db/database';
import type { Module } from '../module';
import type { StatusParts } from './status-part';
import { TwoFactorStatusReader } from './two-factor-status.reader';
import { UserRecord } from './user.entity';
import { UserRepository } from './user.repository';
import { UserResolver } from './user.resolver';

interface UsersNeeds {
  database: Database;
  users: UserRepository;
  statuses: TwoFactorStatusReader;
  /** Every factor's part of the status read (the factors' registry). */
  statusParts: StatusParts;
}

interface UsersGives {
  users: UserRepository;
  /** Users' two-factor status, read in one query however many users. */
  statuses: TwoFactorStatusReader;
}

/** Users' two-factor state: `me`, `user`, `users`. */
export const usersModule: Module<UsersNeeds, UsersGives> = {
  name: 'users',
  entities: [UserRecord],
  resolvers: [UserResolver],
  provides: {
    users: ({ database }) => new UserRepository(database),
    statuses: ({ database, users, statusParts }) => new TwoFactorStatusReader(database, users, statusParts),
  },
  create: ({ statuses }) => ({ resolvers: [new UserResolver(statuses)] }),
};
