import { useEffect, useState, type ReactNode } from 'react';
import { Provider, useQuery } from 'urql';
import { describeAmr } from './amr';
import { authRequest, createClient, onSignedOut, type SessionInfo, type SessionUser } from './api';
import { MeQuery } from './operations';
import { Account } from './pages/Account';
import { OrganizationSettings } from './pages/OrganizationSettings';
import { SignIn } from './pages/SignIn';
import { Link, navigate, usePath } from './router';

const ORGANIZATION_PATH = /^\/organizations\/([^/]+)\/?$/;

/** The pages: sign-in first; then account settings and organization settings. */
export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePath();

  useEffect(() => {
    authRequest<SessionInfo>('/auth/session').then(setSession, () => {
      setSession({ user: null, pendingLogin: null, development: true, trustedDevices: false });
      setNotice('The web server did not answer. Reload the page in a moment.');
    });
  }, []);

  useEffect(
    () =>
      onSignedOut(() => {
        setNotice('Your session has ended. Sign in again.');
        setSession((current) => (current ? { ...current, user: null, pendingLogin: null } : current));
      }),
    [],
  );

  const user = session?.user ?? null;

  // Signed out: every page is the sign-in page. Signed in: the sign-in page leads to the account.
  useEffect(() => {
    if (!session) return;
    if (!user && path !== '/login') navigate('/login', { replace: true });
    if (user && (path === '/login' || path === '/')) navigate('/account', { replace: true });
  }, [session, user, path]);

  // A message from the sign-in belongs to the first page after it (cleared as the path changes, not an effect later).
  if (notice && user && path !== '/account') setNotice(null);

  const signedIn = (signedInUser: SessionUser, message?: string) => {
    setNotice(message ?? null);
    setSession((current) => ({ ...(current as SessionInfo), user: signedInUser, pendingLogin: null }));
    navigate('/account', { replace: true });
  };

  const signOut = async () => {
    try {
      await authRequest('/auth/logout');
    } finally {
      setNotice('You have signed out.');
      setSession((current) => (current ? { ...current, user: null, pendingLogin: null } : current));
    }
  };

  if (!session) {
    return (
      <main id="main" className="loading">
        <p>Loading…</p>
      </main>
    );
  }

  const organizationId = ORGANIZATION_PATH.exec(path)?.[1];
  return (
    // A fresh client (and cache) for each sign-in.
    <ClientProvider key={user ? `${user.id} ${user.signedInAt}` : ''}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">TwoFactor</span>
        {user && <MainNav />}
        {user && (
          <div className="who">
            <p>
              Signed in as <strong>{user.id}</strong> <span className="amr">with {describeAmr(user.amr)}</span>
            </p>
            <button type="button" className="secondary" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {!user ? (
          <SignIn session={session} onStart={() => setNotice(null)} onSignedIn={signedIn} />
        ) : organizationId ? (
          <OrganizationSettings organizationId={decodeURIComponent(organizationId)} />
        ) : (
          <Account user={user} onSignOut={() => void signOut()} />
        )}
      </main>
    </ClientProvider>
  );
}

/** urql's client for one sign-in: made once per mount (App mounts a new one with each sign-in's key). */
function ClientProvider({ children }: { children: ReactNode }) {
  const [client] = useState(createClient);
  return <Provider value={client}>{children}</Provider>;
}

function MainNav() {
  const [{ data }] = useQuery({ query: MeQuery });
  const path = usePath();
  return (
    <nav aria-label="Settings">
      <ul>
        <li>
          <Link to="/account" aria-current={path === '/account' ? 'page' : undefined}>
            Two-factor authentication
          </Link>
        </li>
        {data?.me.memberships.map(({ organization }) => {
          const to = `/organizations/${encodeURIComponent(organization.id)}`;
          return (
            <li key={organization.id}>
              <Link to={to} aria-current={path === to ? 'page' : undefined}>
                {organization.name}: Authentication
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
