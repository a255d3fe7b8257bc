import type { EntityManager } from 'typeorm';
import { RISC_CREDENTIAL_CHANGE_REQUIRED } from '../../../../src/signals/ssf/ssf-events';
import {
  SsfQueuedEventRecord,
  SsfStreamRecord,
  SsfStreamSubjectRecord,
} from '../../../../src/signals/ssf/ssf.entities';
import { SsfRepository, storedEvents } from '../../../../src/signals/ssf/ssf.repository';
import { filled, type PlainSqlCase, writesAlike } from './harness';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const OTHER = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** Every column set (all_subjects as well, then as the stream needs it). */
const stream = (id: string, status: SsfStreamRecord['status'], events: string[], allSubjects: boolean) =>
  Object.assign(
    filled(SsfStreamRecord, {
      id,
      audience: `aud-${id}`,
      eventsRequested: storedEvents(events),
      deliveryMethod: 'push',
      endpointUrl: `https://receiver.example.com/${id}`,
      status,
      statusReason: 'because ✓',
      allSubjects: true,
      description: 'a stream ✓',
      createdAt: NOW,
      updatedAt: NOW,
    }),
    { allSubjects },
  );

/** Streams that take the event (enabled or paused, the type asked for, its user or tenant added or all) and those that do not. */
async function seed(manager: EntityManager): Promise<void> {
  await manager.clear(SsfQueuedEventRecord);
  await manager.clear(SsfStreamSubjectRecord);
  await manager.clear(SsfStreamRecord);
  await manager.insert(SsfStreamRecord, [
    stream('by-user', 'enabled', [RISC_CREDENTIAL_CHANGE_REQUIRED], false),
    stream('by-tenant', 'paused', [OTHER, RISC_CREDENTIAL_CHANGE_REQUIRED], false),
    stream('all', 'enabled', [RISC_CREDENTIAL_CHANGE_REQUIRED], true),
    stream('disabled', 'disabled', [RISC_CREDENTIAL_CHANGE_REQUIRED], true),
    stream('other-type', 'enabled', [OTHER], true),
    stream('other-user', 'enabled', [RISC_CREDENTIAL_CHANGE_REQUIRED], false),
  ]);
  await manager.insert(SsfStreamSubjectRecord, [
    { streamId: 'by-user', subject: 'user:alice' },
    { streamId: 'by-tenant', subject: 'tenant:org-1' },
    { streamId: 'other-user', subject: 'user:bob' },
    { streamId: 'other-user', subject: 'tenant:org-2' },
  ]);
}

/** What the queue holds, without what the database or the randomness chose (id, event id). */
async function queued(manager: EntityManager) {
  const rows = await manager.find(SsfQueuedEventRecord, { order: { streamId: 'ASC' } });
  return rows.map(({ id: _id, eventId: _eventId, ...rest }) => rest);
}

export const SIGNALS_CASES: PlainSqlCase[] = [
  {
    name: "an SSF event is queued, with the change's COMMIT, for exactly the streams TypeORM's reads say take it",
    holds: ['SsfRepository.queueEvent'],
    run: (db) => {
      const event = {
        type: RISC_CREDENTIAL_CHANGE_REQUIRED,
        userId: 'alice',
        organizationId: 'org-1',
        claims: { note: 'ids only ✓' },
      };
      return writesAlike(db, {
        seed,
        plain: (tx) => new SsfRepository(db.database).queueEvent(tx, event, NOW),
        typeorm: async (tx) => {
          const streams = await tx.find(SsfStreamRecord);
          const subjects = await tx.find(SsfStreamSubjectRecord);
          const takes = streams.filter(
            (one) =>
              one.status !== 'disabled' &&
              one.eventsRequested.includes(` ${event.type} `) &&
              (one.allSubjects ||
                subjects.some(
                  (subject) => subject.streamId === one.id && ['user:alice', 'tenant:org-1'].includes(subject.subject),
                )),
          );
          await tx.insert(
            SsfQueuedEventRecord,
            takes.map((one) => ({
              streamId: one.id,
              eventId: 'any',
              eventType: event.type,
              userId: event.userId,
              organizationId: event.organizationId,
              claims: JSON.stringify(event.claims),
              createdAt: NOW,
              dueAt: NOW,
              firstAttemptAt: null,
              attempts: 0,
              lastError: null,
            })),
          );
        },
        rows: queued,
      });
    },
  },
];
