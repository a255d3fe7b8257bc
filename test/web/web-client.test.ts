import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { totpCodeForStep, totpStepAt } from '../support/totp';

/**
 * The reference web client (web/) in a real browser: Debian's Chromium driven by
 * playwright-core, against the built service (embedded default) and the built web
 * server, each started here on free ports. Builds nothing: `npm test` builds both
 * first (pretest), scripts/setup.sh installs web/'s packages and Chromium.
 * Each test sets up its own user (and organization) in a browser context of its
 * own, so any one runs alone: `npx jest test/web -t '<name>'`.
 */
const ROOT = join(__dirname, '..', '..');
const WEB = join(ROOT, 'web');
const RESULTS = join(ROOT, 'test-results', 'web');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const webRequire = createRequire(join(WEB, 'package.json'));

jest.setTimeout(120_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Starts `node <script>` and waits until its output matches `ready`. */
function start(script: string, cwd: string, env: Record<string, string>, ready: RegExp): Promise<Started> {
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
}

function stop(started: Started | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    started.child.removeAllListeners('exit');
    started.child.once('exit', () => resolve());
    started.child.kill('SIGTERM');
  });
}

/** An authenticator app: the codes of a secret, each step once (the service refuses replays). */
class Authenticator {
  private lastStep = 0;

  constructor(readonly secret: string) {}

  /** The next code the service will accept: a later step than the last one used, waiting when needed. */
  async code(): Promise<string> {
    for (;;) {
      const current = totpStepAt(new Date());
      const step = Math.max(this.lastStep + 1, current - 1);
      if (step <= current + 1) {
        this.lastStep = step;
        return totpCodeForStep(this.secret, step);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** A user id no other test uses: each test sets up its own user. */
const uniqueUser = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

/** Waits until the locator's text matches (pages update after their queries answer); fails with the last text seen. */
async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await locator.innerText({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => last);
    if (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) return;
    if (Date.now() > deadline) throw new Error(`expected ${String(expected)}, saw: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the reference web client in Chromium', () => {
  let service: Started | undefined;
  let web: Started | undefined;
  let browser: Browser;
  let base: string;
  let axeSource: string;
  const pageErrors: string[] = [];
  const started = Date.now();

  let webPort: number;
  let dataDir: string | undefined;

  /** One request to the web server on 127.0.0.1, as from a browser at http://localhost:<port> unless `host` says otherwise. */
  function webRequest(
    path: string,
    options: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: webPort,
          path,
          method: options.method ?? 'GET',
          headers: { host: `localhost:${webPort}`, ...options.headers },
        },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
        },
      );
      request.on('error', reject);
      request.end(options.body);
    });
  }

  /** SMS texts the service's log provider wrote so far. */
  const smsTexts = () =>
    (service?.output() ?? '')
      .split('\n')
      .filter((line) => line.includes('SMS (log provider, not sent)'))
      .map((line) => (JSON.parse(line) as { sms: string }).sms);

  /** Waits for an SMS after the first `seen` and returns its code (the only 6-digit number in it). */
  async function smsCode(seen: number): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const texts = smsTexts();
      if (texts.length > seen) return /\b(\d{6})\b/.exec(texts[texts.length - 1])![1];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no SMS arrived');
  }

  /** A screenshot under test-results/web, and axe-core on the screen: no serious or critical violation. */
  async function screen(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
    await page.evaluate(axeSource);
    const violations: string[] = [];
    const results = (await page.evaluate(() =>
      (window as unknown as { axe: { run: (context: Document, options: object) => Promise<unknown> } }).axe.run(
        document,
        { resultTypes: ['violations'] },
      ),
    )) as AxeResults;
    for (const violation of results.violations) {
      if (violation.impact === 'serious' || violation.impact === 'critical') {
        violations.push(
          `${name}: ${violation.id} (${violation.impact}) ${violation.help}: ${violation.nodes
            .map((node) => node.target.join(' '))
            .join('; ')}`,
        );
      }
    }
    expect(violations).toEqual([]);
    expect(pageErrors.splice(0)).toEqual([]);
  }

  /** A page in a browser context of its own (no cookies from other tests), closed after the test. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 860 }, locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return { context, page };
  }
  const contexts: BrowserContext[] = [];
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  let servicePort: number;

  /** A GraphQL request straight to the service, as a caller with its own token (to seed what a test needs). */
  async function serviceGql(query: string, variables: Record<string, unknown>, token: string) {
    const response = await fetch(`http://127.0.0.1:${servicePort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    expect(answer.errors).toBeUndefined();
    return answer.data!;
  }

  /** A token signed with the service's development key (its DATA_DIR), signed in now. */
  function serviceToken(userId: string, scopes: string[] = []): Promise<string> {
    const keys = JSON.parse(readFileSync(join(dataDir!, 'development-keys.json'), 'utf8')) as { authJwtSecret: string };
    return signDevelopmentToken(keys.authJwtSecret, userId, scopes);
  }

  /** What the web server, as the login service, answers for the page's session and an organization (POST /auth/access). */
  function accessOf(page: Page, organizationId: string): Promise<{ data?: unknown; errors?: unknown }> {
    return page.evaluate(async (id) => {
      const response = await fetch('/auth/access', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-requested-by': 'twofactor-web' },
        body: JSON.stringify({ organizationId: id }),
      });
      return response.json();
    }, organizationId);
  }

  async function signIn(page: Page, userId: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.getByLabel('User ID').fill(userId);
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  }

  const signedInAs = (page: Page) => page.locator('header .who');

  /** Answers the open step-up dialog with a code. */
  async function stepUpWithCode(page: Page, code: string): Promise<void> {
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.getByLabel('Code or recovery code').fill(code);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  /** Reads a TOTP setup's secret from the page, confirms with a computed code, returns the authenticator and recovery codes. */
  async function setUpAuthenticatorApp(page: Page): Promise<{ app: Authenticator; recoveryCodes: string[] }> {
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await expect(
      page.getByRole('img', { name: 'QR code for your authenticator app' }).getAttribute('src'),
    ).resolves.toMatch(/^data:image\/svg\+xml/);
    const app = new Authenticator(secret);
    await page.getByLabel('Code from your app').fill(await app.code());
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).locator('code');
    await codes.first().waitFor();
    const recoveryCodes = await codes.allInnerTexts();
    expect(recoveryCodes).toHaveLength(10);
    return { app, recoveryCodes };
  }

  /** A user signed in (password only) on a page of its own, on the account page: one no other test has. */
  async function freshUser(userId: string): Promise<{ page: Page; userId: string }> {
    const { page } = await newPage();
    await signIn(page, userId);
    await page.getByRole('heading', { name: 'Two-factor authentication', level: 1 }).waitFor();
    return { page, userId };
  }

  /** A fresh user with an authenticator app (two-factor on), signed in: its app and recovery codes. */
  async function userWithApp(
    userId: string,
  ): Promise<{ page: Page; userId: string; app: Authenticator; recoveryCodes: string[] }> {
    const { page } = await freshUser(userId);
    const { app, recoveryCodes } = await setUpAuthenticatorApp(page);
    await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await page.getByText('Two-factor authentication is on').waitFor();
    return { page, userId, app, recoveryCodes };
  }

  /** A mobile number of the test's own (SMS limits count per number), and how the pages show it. */
  function phoneNumber(): { number: string; masked: string } {
    const number = `+1415555${randomInt(1000, 10_000)}`;
    return { number, masked: `+1 ••• ••• ${number.slice(-4)}` };
  }

  /** Sets up text messages to a new number; `stepUp` answers the dialog when two-factor is on already. */
  async function setUpSms(page: Page, stepUp?: () => Promise<void>): Promise<string> {
    const { number, masked } = phoneNumber();
    await page.getByLabel('Mobile phone number').fill(number);
    const seen = smsTexts().length;
    await page.getByRole('button', { name: 'Send code' }).click();
    if (stepUp) await stepUp();
    await page.getByText(`We sent a code to ${masked}`).waitFor();
    await page.getByLabel('Code from the text message').fill(await smsCode(seen));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText(`Codes are sent to ${masked}`).waitFor();
    return masked;
  }

  /** Chromium's virtual authenticator for this page: a security key that is always touched. */
  async function virtualSecurityKey(page: Page): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  }

  /** Registers the page's virtual security key under `name`; `stepUp` answers the dialog. */
  async function addSecurityKey(page: Page, name: string, stepUp: () => Promise<void>): Promise<void> {
    await virtualSecurityKey(page);
    await page.getByLabel('Name for a new key (optional)').fill(name);
    await page.getByRole('button', { name: 'Add a security key' }).click();
    await stepUp();
    await page.getByText('Your security key is registered.').waitFor();
    await waitForText(page.getByRole('list', { name: 'Your security keys' }), name);
  }

  beforeAll(async () => {
    const serverScript = join(WEB, 'dist-server', 'main.js');
    if (!existsSync(serverScript) || !existsSync(join(WEB, 'dist', 'index.html'))) {
      throw new Error('the web client is not built: npm test builds it (npm run build:web), after scripts/setup.sh');
    }
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium`);
    mkdirSync(RESULTS, { recursive: true });
    axeSource = readFileSync(webRequire.resolve('axe-core/axe.min.js'), 'utf8');

    dataDir = mkdtempSync(join(tmpdir(), 'tf-web-'));
    const port = await freePort();
    servicePort = port;
    webPort = await freePort();
    const common = { DATA_DIR: dataDir, PORT: String(port), WEB_PORT: String(webPort) };
    // WEB_PORT also tells the service the web client's origin (http://localhost:<WEB_PORT>) for WebAuthn.
    service = await start('dist/src/main.js', ROOT, { ...common, TRUST_PROXY: '1', LOG_LEVEL: 'info' }, /"listening"/);
    web = await start(join(WEB, 'dist-server', 'main.js'), WEB, common, /demo organization demo-org/);
    base = `http://localhost:${webPort}`;

    const { chromium } = webRequire('playwright-core') as typeof import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stop(web);
    await stop(service);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(`web client browser tests: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  describe('the web server (backend-for-frontend)', () => {
    const json = { 'content-type': 'application/json', 'x-requested-by': 'twofactor-web' };

    it('refuses POSTs without the CSRF header, from another origin or cross-site, and GET on the API', async () => {
      const body = JSON.stringify({ userId: 'alice', password: 'demo' });
      const noHeader = await webRequest('/auth/password', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(noHeader.status).toBe(403);
      const otherOrigin = await webRequest('/auth/password', {
        method: 'POST',
        headers: { ...json, origin: 'http://evil.example' },
        body,
      });
      expect(otherOrigin.status).toBe(403);
      const crossSite = await webRequest('/auth/password', {
        method: 'POST',
        headers: { ...json, 'sec-fetch-site': 'cross-site' },
        body,
      });
      expect(crossSite.status).toBe(403);
      const formPost = await webRequest('/auth/password', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-by': 'twofactor-web' },
        body: 'userId=alice&password=demo',
      });
      expect(formPost.status).toBe(403);
      expect((await webRequest('/graphql')).status).toBe(405);
    });

    it('forwards GraphQL only for a signed-in session; the demo password only', async () => {
      const signedOut = await webRequest('/graphql', {
        method: 'POST',
        headers: json,
        body: '{"query":"{ me { id } }"}',
      });
      expect(signedOut.status).toBe(401);
      expect(JSON.parse(signedOut.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const wrong = await webRequest('/auth/password', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ userId: 'alice', password: 'hunter2' }),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });

    /** Signs a user without two-factor in over HTTP: the session cookie. */
    async function sessionCookie(userId: string): Promise<string> {
      const signedIn = await webRequest('/auth/password', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ userId, password: 'demo' }),
      });
      expect(JSON.parse(signedIn.body).data.status).toBe('SIGNED_IN');
      return String(signedIn.headers['set-cookie']).split(';')[0];
    }

    it('forwards only the operations the pages were built with (trusted documents), by their hash', async () => {
      const userId = uniqueUser('trusted');
      const cookie = await sessionCookie(userId);
      const manifest = JSON.parse(readFileSync(join(WEB, 'src', 'gql', 'persisted-documents.json'), 'utf8')) as Record<
        string,
        string
      >;
      const [meId] = Object.entries(manifest).find(([, document]) => /\bquery Me\b/.test(document))!;
      const graphql = (body: unknown) =>
        webRequest('/graphql', { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify(body) });

      const known = await graphql({ documentId: meId });
      expect(known.status).toBe(200);
      expect(JSON.parse(known.body).data.me.id).toBe(userId);

      // Any other document, as text or by an unknown id, is refused here: the service never sees it.
      for (const body of [
        { query: '{ me { id } }' },
        { query: manifest[meId] },
        { documentId: meId, query: '{ me { id } }' },
        { documentId: `sha256:${'0'.repeat(64)}` },
        { documentId: '__proto__' },
        { documentId: 'constructor' },
        { documentId: meId, variables: [1] },
        {},
      ]) {
        const refused = await graphql(body);
        expect({ body, status: refused.status }).toEqual({ body, status: 400 });
        const errors = JSON.parse(refused.body).errors;
        expect(errors).toHaveLength(1);
        expect(errors[0].extensions.code).toBe('BAD_REQUEST');
        expect(JSON.parse(refused.body).data).toBeUndefined();
      }
      const batch = await webRequest('/graphql', {
        method: 'POST',
        headers: { ...json, cookie },
        body: JSON.stringify([{ documentId: meId }]),
      });
      expect(batch.status).toBe(400);
    });

    it('sends a strict content security policy, and sends 127.0.0.1 to localhost', async () => {
      const page = await webRequest('/login');
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['x-frame-options']).toBe('DENY');
      const other = await webRequest('/login', { headers: { host: `127.0.0.1:${webPort}` } });
      expect(other.status).toBe(308);
      expect(other.headers.location).toBe(`http://localhost:${webPort}/login`);
    });

    it('refuses to start in production (demo password, development keys)', () => {
      const result = spawnSync(process.execPath, [join(WEB, 'dist-server', 'main.js')], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PUBLIC_ORIGIN: 'https://app.example.com' },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toContain('refusing to start in production');
    });
  });

  describe('a user protects an account and signs in every way', () => {
    it('opens on the sign-in page; the password step signs a user without two-factor in', async () => {
      const { page } = await newPage();
      const userId = uniqueUser('alice');
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/login');
      await screen(page, '01-sign-in');

      await page.getByLabel('User ID').fill(userId);
      await page.getByLabel('Password').fill('wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await waitForText(page.getByRole('alert'), 'password is wrong');

      await page.getByLabel('Password').fill('demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Two-factor authentication', level: 1 }).waitFor();
      // How she signed in, in words: no amr codes for people.
      await waitForText(signedInAs(page), `Signed in as ${userId} with password`);
      expect(await signedInAs(page).innerText()).not.toMatch(/amr|pwd/);
      await page.getByText('Two-factor authentication is off.').waitFor();
      await screen(page, '02-account-off');
    });

    it('the session cookie is httpOnly and SameSite; the page holds no token', async () => {
      const { page } = await freshUser(uniqueUser('cookie'));
      const cookies = await page.context().cookies();
      const session = cookies.find((cookie) => cookie.name === 'tf_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      const visible = await page.evaluate(
        () => document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage),
      );
      expect(visible).not.toMatch(/eyJ/);
      // Without the CSRF header, the web server refuses to forward.
      const status = await page.evaluate(async () => {
        const response = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ me { id } }' }),
        });
        return response.status;
      });
      expect(status).toBe(403);
    });

    it('sets up an authenticator app from the QR code page and shows the recovery codes once', async () => {
      const { page } = await freshUser(uniqueUser('totp-setup'));
      await page.getByRole('button', { name: 'Set up authenticator app' }).click();
      await page.locator('code.secret').waitFor();
      await screen(page, '03-authenticator-setup');
      // A wrong code: only the new app's code confirms the setup, and the words say so.
      await page.getByLabel('Code from your app').fill('000000');
      await page.getByRole('button', { name: 'Confirm' }).click();
      const refusal = page.getByRole('alert');
      await waitForText(refusal, 'That code did not work.');
      await waitForText(refusal, 'Type the code the app you are setting up shows now');
      expect(await refusal.innerText()).not.toMatch(/SMS|text message|recovery/i);
      await page.getByRole('button', { name: 'Cancel' }).click();

      await setUpAuthenticatorApp(page);
      await screen(page, '04-recovery-codes');
      await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await page.getByText('Two-factor authentication is on').waitFor();
      await page.getByRole('list', { name: 'Recovery codes' }).waitFor({ state: 'detached' });
    });

    it('signs in with the keyboard alone and an authenticator code', async () => {
      const { page, userId, app } = await userWithApp(uniqueUser('keyboard'));
      await signOut(page);
      // The sign-out notice belongs to the sign-in page, not to the next sign-in.
      await page.getByRole('status').filter({ hasText: 'You have signed out.' }).waitFor();
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === 'user-id')); i++) {
        await page.keyboard.press('Tab');
      }
      await page.keyboard.type(userId);
      await page.keyboard.press('Tab');
      await page.keyboard.type('demo');
      await page.keyboard.press('Enter');

      const field = page.getByLabel('Authentication code');
      await field.waitFor();
      await expect(field.getAttribute('autocomplete')).resolves.toBe('one-time-code');
      await expect(field.getAttribute('inputmode')).resolves.toBe('numeric');
      await page.waitForFunction(() => document.activeElement?.id === 'two-factor-code');
      await expect(page.getByText('You have signed out.').count()).resolves.toBe(0);
      await screen(page, '05-two-factor-step');

      // She has no phone: nothing on this step speaks of SMS.
      await page.keyboard.type('000000');
      await page.keyboard.press('Enter');
      const refusal = page.getByRole('alert');
      await waitForText(refusal, 'That code did not work.');
      await waitForText(refusal, 'Type the code your authenticator app shows now');
      expect(await page.locator('section.card').innerText()).not.toMatch(/SMS|text message/i);

      await page.keyboard.type(await app.code());
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Two-factor authentication', level: 1 }).waitFor();
      await waitForText(signedInAs(page), `Signed in as ${userId} with password and authenticator app`);
    });

    it('signs in with a recovery code through "Use a recovery code"', async () => {
      const { page, userId, recoveryCodes } = await userWithApp(uniqueUser('recovery'));
      await signOut(page);
      await signIn(page, userId);
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(recoveryCodes[0].toLowerCase());
      await screen(page, '06-two-factor-recovery-code');
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForText(signedInAs(page), 'with password and recovery code');
    });

    it('sets up SMS behind the step-up dialog, with the code from the service log', async () => {
      const { page, recoveryCodes } = await userWithApp(uniqueUser('sms-setup'));
      const { number, masked } = phoneNumber();
      await page.getByLabel('Mobile phone number').fill(number);
      await page.getByRole('button', { name: 'Send code' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      // No phone yet: the dialog asks only for what she has.
      await waitForText(dialog.locator('#step-up-purpose'), 'a code from your authenticator app or one of your');
      expect(await dialog.innerText()).not.toMatch(/SMS/);
      await screen(page, '07-step-up-dialog');
      const seen = smsTexts().length;
      await stepUpWithCode(page, recoveryCodes[1]);
      await page.getByText(`We sent a code to ${masked}`).waitFor();
      await expect(page.getByRole('button', { name: /Resend code \(in \d+ s\)/ }).isDisabled()).resolves.toBe(true);
      const code = await smsCode(seen);

      // A wrong code: only the code sent to the new number confirms it.
      await page.getByLabel('Code from the text message').fill(code === '000000' ? '111111' : '000000');
      await page.getByRole('button', { name: 'Confirm' }).click();
      const refusal = page.getByRole('alert');
      await waitForText(refusal, 'Type the code in the latest text message to this number');
      expect(await refusal.innerText()).not.toMatch(/authenticator|recovery/i);

      await page.getByLabel('Code from the text message').fill(code);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(`Codes are sent to ${masked}`).waitFor();
    });

    it('offers the language of the text messages next to the phone number, and says SMS is the weaker method (issue 26)', async () => {
      const { page } = await freshUser(uniqueUser('sms-language'));
      const { number, masked } = phoneNumber();
      await page.getByLabel('Mobile phone number').fill(number);
      const language = page.getByLabel('Language of the text messages');
      // The browser's language (Chromium here: English) until the user picks another.
      await expect(language.inputValue()).resolves.toBe('en');
      await language.selectOption({ label: 'Deutsch' });
      await waitForText(page.locator('#phone-number-risk'), 'SIM swap');
      await screen(page, '07c-sms-language');
      const seen = smsTexts().length;
      await page.getByRole('button', { name: 'Send code' }).click();
      await page.getByText(`We sent a code to ${masked}`).waitFor();
      const code = await smsCode(seen);
      expect(smsTexts().at(-1)).toContain(`Ihr Code lautet ${code}`);
      await page.getByLabel('Code from the text message').fill(code);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(`Codes are sent to ${masked}`).waitFor();
    });

    it('signs in with "Send SMS"', async () => {
      const { page, userId } = await freshUser(uniqueUser('sms-sign-in'));
      const masked = await setUpSms(page);
      await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await signOut(page);
      await signIn(page, userId);
      const seen = smsTexts().length;
      await page.getByRole('button', { name: 'Send SMS' }).click();
      await page.getByText(`Enter the 6-digit code we sent to ${masked}.`).waitFor();
      await page.getByLabel('Authentication code').fill(await smsCode(seen));
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForText(signedInAs(page), 'with password and text message');
    });

    it('"Remember this browser" skips the second step next time; revoking it brings the step back', async () => {
      const { page, userId, recoveryCodes } = await userWithApp(uniqueUser('remember'));
      await signOut(page);
      await signIn(page, userId);
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
      await page.getByLabel('Remember this browser').check();
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForText(signedInAs(page), 'with password and recovery code');
      await page.getByRole('status').filter({ hasText: 'This browser is remembered until' }).waitFor();
      const device = (await page.context().cookies()).find((cookie) => cookie.name === 'tf_device');
      expect(device).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

      // Signed out and in again: the password alone, the device token from its cookie.
      await signOut(page);
      await signIn(page, userId);
      await waitForText(signedInAs(page), 'with password and remembered browser');
      const remembered = page.getByRole('list', { name: 'Remembered browsers' });
      await waitForText(remembered, 'Chrome on Linux');
      await screen(page, '07b-remembered-browser');
      await page.getByRole('button', { name: /^Revoke Chrome on Linux/ }).click();
      await page.getByText('No browser is remembered.').waitFor();

      await signOut(page);
      await signIn(page, userId);
      await page.getByLabel('Authentication code').waitFor();
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(recoveryCodes[1]);
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForText(signedInAs(page), 'with password and recovery code');
    });

    it("registers a security key in Chromium's virtual authenticator and signs in with it", async () => {
      const { page, userId, app } = await userWithApp('alice'); // its screens are the README's screenshots
      await setUpSms(page, async () => stepUpWithCode(page, await app.code()));
      // Step up with an SMS code this time.
      await addSecurityKey(page, 'Test key', async () => {
        const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
        const seen = smsTexts().length;
        await dialog.getByRole('button', { name: 'Send SMS' }).click();
        await dialog.getByText('We sent a code to').waitFor();
        await stepUpWithCode(page, await smsCode(seen));
      });

      await page.getByRole('button', { name: 'Rename Test key' }).click();
      await page.getByLabel('New name for Test key').fill('Blue key');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Renamed to Blue key.').waitFor();
      // Each key says its model (none from Chromium's authenticator, which does not attest) and whether it counts.
      await page
        .getByText(/Unknown model · (Device-bound key|Synced passkey) · Accepted by your organizations/)
        .waitFor();
      await screen(page, '08-account-all-methods');

      await signOut(page);
      await signIn(page, userId);
      await page.getByRole('button', { name: 'Use a security key' }).waitFor();
      await screen(page, '08b-two-factor-every-method');
      await page.getByRole('button', { name: 'Use a security key' }).click();
      await waitForText(signedInAs(page), 'with password and security key');
    });

    it('views recovery codes (step-up with the security key) and regenerates them (step-up with a code)', async () => {
      const { page, app, recoveryCodes } = await userWithApp(uniqueUser('view-codes'));
      // The key's step-up uses up a recovery code, so one shows as used.
      await addSecurityKey(page, 'Blue key', () => stepUpWithCode(page, recoveryCodes[0]));
      const card = page.getByRole('region', { name: 'Recovery codes' });
      await expect(card.getByRole('button').allInnerTexts()).resolves.toEqual([
        'View recovery codes',
        'Regenerate recovery codes',
      ]);

      await page.getByRole('button', { name: 'View recovery codes' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.getByRole('button', { name: 'Use a security key' }).click();
      await dialog.waitFor({ state: 'detached' });
      const list = page.getByRole('list', { name: 'Recovery codes' });
      await list.waitFor();
      await expect(list.locator('li').count()).resolves.toBe(10);
      await expect(list.locator('li.used').count()).resolves.toBe(1);
      await screen(page, '09-view-recovery-codes');
      await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();

      await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
      await stepUpWithCode(page, await app.code());
      await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
      const fresh = await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allInnerTexts();
      expect(fresh).toHaveLength(10);
      expect(fresh.filter((code) => recoveryCodes.includes(code))).toEqual([]);
      await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await page.getByText('You have 10 unused recovery codes.').waitFor();
    });

    it('removes a factor: the security key, behind the step-up', async () => {
      const { page, app, recoveryCodes } = await userWithApp(uniqueUser('remove-key'));
      await addSecurityKey(page, 'Blue key', async () => stepUpWithCode(page, await app.code()));
      await page.getByRole('button', { name: 'Remove Blue key' }).click();
      await stepUpWithCode(page, recoveryCodes[1]);
      await page.getByText('Blue key was removed.').waitFor();
      await page.getByRole('list', { name: 'Your security keys' }).waitFor({ state: 'detached' });
    });

    it('a wrong step-up code is explained in words and the dialog stays open', async () => {
      const { page, recoveryCodes } = await userWithApp(uniqueUser('wrong-step-up'));
      await page.getByRole('button', { name: 'Disable two-factor authentication' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.getByLabel('Code or recovery code').fill('123456');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      const refusal = dialog.getByRole('alert');
      await waitForText(refusal, 'That code did not work.');
      await waitForText(refusal, 'the code your authenticator app shows now or an unused recovery code');
      expect(await dialog.innerText()).not.toMatch(/SMS/);
      await stepUpWithCode(page, recoveryCodes[0]);
      await page.getByRole('status').filter({ hasText: 'Two-factor authentication is off.' }).waitFor();
      await page.locator('.status-off').waitFor();
    });
  });

  describe('an owner requires two-factor for an organization; a member sees it', () => {
    it('is refused while the owner has no two-factor, and on once the owner has it', async () => {
      // The demo organization (seeded by the web server at start): no other test changes it.
      const { page } = await newPage();
      await signIn(page, 'demo-owner');
      await page.getByRole('link', { name: 'Demo: Authentication' }).click();
      await page.getByRole('heading', { name: 'Authentication', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Require two-factor' }).click();
      const refusal = page.getByRole('alert');
      await waitForText(refusal, /can't be required yet: demo-owner does not have two-factor/);
      await screen(page, '10-organization-refused');

      await page.getByRole('link', { name: 'Two-factor authentication' }).click();
      await setUpAuthenticatorApp(page);
      await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();

      await page.getByRole('link', { name: 'Demo: Authentication' }).click();
      await page.getByLabel('Grace period').selectOption('14');
      await page.getByRole('button', { name: 'Require two-factor' }).click();
      await page.getByText('Demo requires two-factor authentication').waitFor();
      await page.getByText(/grace period ends on/).waitFor();
      await page.getByRole('button', { name: 'Stop requiring two-factor' }).waitFor();
      // The owner's session signed in with the password alone (the app was set up after): organizationAccess,
      // asked with the session's amr, wants a sign-in with the new factor.
      expect(await accessOf(page, 'demo-org')).toEqual({
        data: { allowed: false, reason: 'SESSION_FACTOR_NOT_ACCEPTED', graceEndsAt: null },
      });

      await page.getByRole('button', { name: 'Forbid remembered browsers' }).click();
      await waitForText(page.locator('#devices-status'), 'asked for their second step at every sign-in');
      await page.getByRole('button', { name: 'Allow remembered browsers' }).waitFor();

      // The members' table (the exemptions' table on the page has a caption and rows too).
      const membersTable = page.getByRole('table', { name: /members without two-factor/ });
      const caption = membersTable.locator('caption');
      await waitForText(caption, /^30 members without two-factor; page 1 of 3/);
      await waitForText(page.locator('dl.counts'), /Members\s+31\s+With two-factor\s+1\s+Without two-factor\s+30/);
      await page.getByRole('button', { name: 'Next page' }).click();
      await waitForText(caption, /page 2 of 3/);
      await waitForText(membersTable.locator('tbody'), 'demo-member-19');
      await screen(page, '11-organization-owner');
    });

    it('a member sees the policy and nothing an owner sees', async () => {
      // An organization of its own, set up as the directory and its owner would (through the service).
      const organizationId = uniqueUser('org');
      const name = `Team ${organizationId.slice(-8)}`;
      const [owner, member] = [uniqueUser('owner'), uniqueUser('member')];
      const directory = await serviceToken('directory-sync', ['twofactor:directory']);
      await serviceGql(
        'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id } }',
        { id: organizationId, name },
        directory,
      );
      for (const [userId, role] of [
        [owner, 'OWNER'],
        [member, 'MEMBER'],
      ]) {
        await serviceGql(
          'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
          { o: organizationId, u: userId, r: role },
          directory,
        );
      }
      const ownerToken = await serviceToken(owner);
      const { startTotpSetup } = (await serviceGql('mutation { startTotpSetup { secret } }', {}, ownerToken)) as {
        startTotpSetup: { secret: string };
      };
      const ownerApp = new Authenticator(startTotpSetup.secret);
      await serviceGql(
        'mutation($code: String!) { confirmTotpSetup(code: $code) { recoveryCodes } }',
        { code: await ownerApp.code() },
        ownerToken,
      );
      await serviceGql(
        'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 14) { id } }',
        { o: organizationId },
        ownerToken,
      );
      await serviceGql(
        'mutation($o: ID!) { setTrustedDevicesAllowed(organizationId: $o, allowed: false) { id } }',
        { o: organizationId },
        ownerToken,
      );

      const { page } = await newPage();
      await signIn(page, member);
      await page.getByRole('link', { name: `${name}: Authentication` }).click();
      await page.getByText(`${name} requires two-factor authentication`).waitFor();
      await page.getByText(`Only owners of ${name} can change this.`).waitFor();
      // Without two-factor, in the grace period: allowed until it ends.
      expect(await accessOf(page, organizationId)).toMatchObject({ data: { allowed: true, reason: 'GRACE_PERIOD' } });
      await waitForText(page.locator('#devices-status'), `Members of ${name} are asked for their second step`);
      await expect(page.getByRole('button', { name: 'Allow remembered browsers' }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: 'Require two-factor' }).count()).resolves.toBe(0);
      await expect(page.getByRole('heading', { name: 'Compliance' }).count()).resolves.toBe(0);
      await screen(page, '12-organization-member');
    });
  });

  describe('which security keys count (issue 25)', () => {
    it('an owner sees the policy and whose keys it does not accept, and cannot ask for device-bound keys without one', async () => {
      const organizationId = uniqueUser('org');
      const name = `Keys ${organizationId.slice(-8)}`;
      const [owner, member] = [uniqueUser('owner'), uniqueUser('member')];
      const directory = await serviceToken('directory-sync', ['twofactor:directory']);
      await serviceGql(
        'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id } }',
        { id: organizationId, name },
        directory,
      );
      for (const [userId, role] of [
        [owner, 'OWNER'],
        [member, 'MEMBER'],
      ]) {
        await serviceGql(
          'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
          { o: organizationId, u: userId, r: role },
          directory,
        );
      }
      const { page } = await userWithApp(owner);
      await page.getByRole('link', { name: `${name}: Authentication` }).click();
      const keys = page.getByRole('region', { name: 'Which security keys count' });
      await waitForText(keys, 'Any model of security key or passkey counts.');
      // No blob loaded here: no models to choose from, and it says why.
      await waitForText(keys, 'No models: the service has no FIDO Metadata Service blob loaded.');
      await waitForText(keys, '2 members have no key this policy accepts, 1 of them owners.');
      const notAccepted = page.getByRole('list', { name: 'Members whose keys are not accepted' });
      await waitForText(notAccepted, `${owner} (owner)`);
      await waitForText(notAccepted, member);
      await keys.getByLabel('Only device-bound keys (not synced passkeys)').check();
      await keys.getByRole('button', { name: 'Save which keys count' }).click();
      await waitForText(keys, `${owner} does not have a security key or passkey yet`);
    });
  });

  describe('requiring two-factor as a lifecycle (issue 24)', () => {
    it('an owner sees who would be blocked, exempts a member with a date and a reason, ends it, and accepts identity-provider MFA; the member sees when the exemption ends', async () => {
      const organizationId = uniqueUser('org');
      const name = `Lifecycle ${organizationId.slice(-8)}`;
      const [owner, away, other] = [uniqueUser('owner'), uniqueUser('away'), uniqueUser('other')];
      const directory = await serviceToken('directory-sync', ['twofactor:directory']);
      await serviceGql(
        'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id } }',
        { id: organizationId, name },
        directory,
      );
      for (const [userId, role] of [
        [owner, 'OWNER'],
        [away, 'MEMBER'],
        [other, 'MEMBER'],
      ]) {
        await serviceGql(
          'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
          { o: organizationId, u: userId, r: role },
          directory,
        );
      }
      const { page } = await userWithApp(owner);
      await page.getByRole('link', { name: `${name}: Authentication` }).click();

      // Before requiring: who would be blocked, by name; with keys only, the owner too.
      const preview = page.getByRole('region', { name: 'Before you require it' });
      await waitForText(preview, '2 members of 3 would be blocked at once');
      const blocked = page.getByRole('list', { name: 'Who would be blocked' });
      await waitForText(blocked, away);
      await waitForText(blocked, other);
      await page.getByLabel(/Only security keys and passkeys/).check();
      await waitForText(preview, `It can't be required yet: ${owner} has no security key or passkey yet.`);
      await waitForText(preview, '3 members of 3 would be blocked');
      await page.getByLabel(/Only security keys and passkeys/).uncheck();
      await page.getByLabel('Grace period').selectOption('7');
      await waitForText(preview, '2 members of 3 would be blocked when the grace period of 7 days ends');

      // An exemption with a date and a reason.
      const until = new Date(Date.now() + 10 * 24 * 3600_000);
      const day = `${until.getFullYear()}-${String(until.getMonth() + 1).padStart(2, '0')}-${String(until.getDate()).padStart(2, '0')}`;
      await page.getByLabel("Member's user ID").fill(away);
      await page.getByLabel('Exempt until (the end of that day)').fill(day);
      await page.getByLabel('Reason').fill('Travelling without a phone');
      await page.getByRole('button', { name: 'Exempt member' }).click();
      await waitForText(page.getByRole('status'), `${away} is exempt from the requirement until`);
      const exemptions = page.getByRole('table', { name: /1 exemption, soonest end first/ });
      await waitForText(exemptions, 'Travelling without a phone');
      await waitForText(exemptions, owner);
      await waitForText(preview, '1 member of 3 would be blocked');
      await waitForText(preview, '1 member is exempt for now.');
      await waitForText(page.locator('dl.counts'), /Exempt\s+1/);
      await waitForText(page.getByRole('table', { name: /without two-factor/ }), /not exempt/);
      // An owner cannot be exempt: the refusal in words.
      await page.getByLabel("Member's user ID").fill(owner);
      await page.getByLabel('Reason').fill('Me too');
      await page.getByRole('button', { name: 'Exempt member' }).click();
      await waitForText(page.getByRole('alert'), 'owners are never exempt');

      // Identity-provider MFA.
      await page.getByRole('button', { name: 'Accept identity provider MFA' }).click();
      await waitForText(page.locator('#identity-provider-status'), 'counts as two-factor here');
      await page.getByRole('button', { name: 'Stop accepting identity provider MFA' }).waitFor();
      await page.getByRole('button', { name: 'Require two-factor' }).click();
      await page.getByText(`${name} requires two-factor authentication`).waitFor();
      await screen(page, '13-organization-lifecycle-owner');

      // The member sees when the exemption ends, on the organization's page and in its account.
      const member = await newPage();
      await signIn(member.page, away);
      await member.page.getByRole('heading', { name: 'Two-factor authentication', level: 1 }).waitFor();
      await waitForText(
        member.page.getByRole('region', { name: 'Your organizations' }),
        'you are exempt from it until',
      );
      await member.page.getByRole('link', { name: `${name}: Authentication` }).click();
      await waitForText(member.page.locator('#my-exemption'), `An owner exempted you from ${name}'s requirement until`);
      await waitForText(member.page.locator('#identity-provider-status'), 'counts as two-factor here');
      expect(await accessOf(member.page, organizationId)).toMatchObject({ data: { allowed: true, reason: 'EXEMPT' } });
      await screen(member.page, '14-organization-member-exempt');

      // Ended by the owner: gone from the list, and the member is in its grace period like the others.
      await page.getByRole('button', { name: `End exemption for ${away}` }).click();
      await waitForText(page.getByRole('status'), `${away}'s exemption has ended.`);
      await waitForText(page.getByRole('table', { name: 'Nobody is exempt.' }), 'Member');
      expect(await accessOf(member.page, organizationId)).toMatchObject({
        data: { allowed: true, reason: 'GRACE_PERIOD' },
      });
    });
  });

  // Stops the service: the last test of the file.
  it('says so when the service cannot be reached, and that nothing changed', async () => {
    const { page } = await newPage();
    await stop(service);
    await signIn(page, uniqueUser('unreachable'));
    await waitForText(page.getByRole('alert'), 'The two-factor service is not available right now.');
    await waitForText(page.getByRole('alert'), 'Try again in a minute.');
  });
});
