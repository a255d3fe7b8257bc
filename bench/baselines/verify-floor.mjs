// Baseline: the least a correct TOTP verification must make durable, on bare
// Fastify + mysql2, against the bench's database: lock the user's row, advance
// its last accepted step with a conditional UPDATE (the replay guard), insert one
// audit row, COMMIT. No GraphQL, no Redis, no code to compute: what is left is the
// database round trips and the commit, the physical floor the service's
// verification is compared with. POST /access does organizationAccess's one
// SELECT (the same statement the service sends) and nothing else: the floor of a
// read that must ask the database, at full speed and paced. Listens on
// 127.0.0.1:$PORT; prints "ready <port>".
//
// POST /verify-2rt does the same durable work in 2 round trips instead of 5, on
// a pool of its own with multipleStatements: `START TRANSACTION; SELECT … FOR
// UPDATE`, then `UPDATE …; INSERT …; COMMIT`. A reference for context only (the
// targets are to /verify): what batching the statements would leave.
import Fastify from 'fastify';
import { createPool } from 'mysql2/promise';

const pool = createPool({ uri: process.env.DATABASE_URL, connectionLimit: 16, timezone: 'Z' });
// Its own pool: multipleStatements only where it is meant.
const batchedPool = createPool({
  uri: process.env.DATABASE_URL,
  connectionLimit: 16,
  timezone: 'Z',
  multipleStatements: true,
});
const fastify = Fastify({ logger: false });

fastify.post('/verify', async (request, reply) => {
  const { userId, step } = request.body;
  const connection = await pool.getConnection();
  try {
    await connection.query('START TRANSACTION');
    const [rows] = await connection.query('SELECT id, failed_attempts_in_row FROM users WHERE id = ? FOR UPDATE', [
      userId,
    ]);
    if (rows.length === 0) throw new Error('no such user');
    const [advanced] = await connection.query(
      'UPDATE users SET last_totp_step = ? WHERE id = ? AND (last_totp_step IS NULL OR last_totp_step < ?)',
      [step, userId, step],
    );
    await connection.query(
      'INSERT INTO audit_events (action, user_id, actor_id, occurred_at) VALUES (?, ?, ?, NOW(3))',
      ['LOGIN_VERIFIED', userId, userId],
    );
    await connection.query('COMMIT');
    return reply.send({ data: { verified: advanced.affectedRows === 1 } });
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    return reply.code(500).send({ errors: [{ message: String(error) }] });
  } finally {
    connection.release();
  }
});

fastify.post('/verify-2rt', async (request, reply) => {
  const { userId, step } = request.body;
  const connection = await batchedPool.getConnection();
  try {
    const [[, rows]] = await connection.query(
      'START TRANSACTION; SELECT id, failed_attempts_in_row FROM users WHERE id = ? FOR UPDATE',
      [userId],
    );
    if (rows.length === 0) throw new Error('no such user');
    // The audit row only when the step advanced (ROW_COUNT() of the UPDATE): a replayed code records nothing.
    const [[advanced]] = await connection.query(
      `UPDATE users SET last_totp_step = ? WHERE id = ? AND (last_totp_step IS NULL OR last_totp_step < ?);
       INSERT INTO audit_events (action, user_id, actor_id, occurred_at) SELECT ?, ?, ?, NOW(3) FROM DUAL WHERE ROW_COUNT() = 1;
       COMMIT`,
      [step, userId, step, 'LOGIN_VERIFIED', userId, userId],
    );
    return reply.send({ data: { verified: advanced.affectedRows === 1 } });
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    return reply.code(500).send({ errors: [{ message: String(error) }] });
  } finally {
    connection.release();
  }
});

fastify.post('/access', async (request, reply) => {
  const { organizationId, userId } = request.body;
  const [rows] = await pool.query(
    `SELECT m.two_factor_enabled, m.phishing_resistant, o.requires_two_factor, o.requires_phishing_resistant,
            o.grace_period_ends_at, o.accepts_identity_provider_mfa, e.ends_at
       FROM memberships m JOIN organizations o ON o.id = m.organization_id
       LEFT JOIN two_factor_exemptions e ON e.organization_id = m.organization_id AND e.user_id = m.user_id
      WHERE m.organization_id = ? AND m.user_id = ?`,
    [organizationId, userId],
  );
  return reply.send({ data: { member: rows.length === 1 } });
});

await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`ready ${fastify.server.address().port}\n`);

const stop = async () => {
  await fastify.close();
  await Promise.all([pool.end(), batchedPool.end()]);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
