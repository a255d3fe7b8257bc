// The floors' users and requests (bench/baselines/verify-floor.mjs serves them).

/** Waits for a baseline that answers POST /verify (any status: it listens). */
export async function waitForFloor(server, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${server.name} exited: ${server.tail()}`);
    try {
      const response = await fetch(`${server.url}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(2_000),
      });
      if (response.status) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${server.name} did not answer within ${timeoutMs} ms`);
}

/** Users for the durable floors only (the login users' steps stay the service's). */
export async function seedFloorUsers(url, connect, count = 20_000) {
  const users = Array.from({ length: count }, (_, i) => `bfloor-u${String(i).padStart(6, '0')}`);
  const connection = await connect(url);
  try {
    const now = new Date();
    for (let offset = 0; offset < users.length; offset += 5_000) {
      await connection.query(
        'INSERT INTO users (id, two_factor_enabled, failed_attempts_in_row, created_at) VALUES ?',
        [users.slice(offset, offset + 5_000).map((id) => [id, 1, 0, now])],
      );
    }
  } finally {
    await connection.end();
  }
  return users;
}

/**
 * Durable-floor requests: each a user's next step, so every conditional UPDATE
 * succeeds as a right code's would. One counter for every pass and path (the
 * 5- and 2-round-trip floors, peak and paced), so no step is ever sent twice.
 */
export function floorSteps(users) {
  let next = 0;
  return {
    requests: (path) => [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const n = next++;
          const body = JSON.stringify({ userId: users[n % users.length], step: 1 + Math.floor(n / users.length) });
          return { ...request, body };
        },
      },
    ],
  };
}
