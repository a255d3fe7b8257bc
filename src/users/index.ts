import type { Database } from '../infra/db/database';
import type { Module } from '../module';
import { TwoFactorStatusReader } from './two-factor-status.reader';
import { UserRecord } from './user.entity';
import { UserRepository } from './user.repository';
import { UserResolver } from './user.resolver';

interface UsersNeeds {
  database: Database;
  users: UserRepository;
  statuses: TwoFactorStatusReader;
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
    statuses: ({ database, users }) => new TwoFactorStatusReader(database, users),
  },
  create: ({ statuses }) => ({ resolvers: [new UserResolver(statuses)] }),
};
