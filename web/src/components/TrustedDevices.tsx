import type { StatusFieldsFragment } from '../gql/graphql';
import { formatDate } from '../hooks';
import { RevokeAllTrustedDevices, RevokeTrustedDevice } from '../operations';
import { FactorSection, type SectionContext } from './FactorSection';

/**
 * The browsers that skip the second step ("Remember this browser"), each with
 * "Revoke"; revoking needs no step-up (it only takes a shortcut away).
 */
export function TrustedDevices({
  context,
  devices,
}: {
  context: SectionContext;
  devices: StatusFieldsFragment['trustedDevices'];
}) {
  const { mutate } = context;
  return (
    <FactorSection
      context={context}
      id="devices-heading"
      title="Trusted devices"
      summary={
        <p>
          Browsers where you chose &quot;Remember this browser&quot; skip the second step until they expire. Removing a
          method, regenerating recovery codes or turning two-factor off forgets them all.
        </p>
      }
      items={{
        label: 'Remembered browsers',
        empty: <p>No browser is remembered.</p>,
        list: devices.map(({ id, name, createdAt, lastUsedAt, expiresAt }) => ({
          id,
          name,
          meta: `remembered ${formatDate(createdAt)} · last used ${formatDate(lastUsedAt)} · until ${formatDate(expiresAt)}`,
          actions: [
            {
              label: 'Revoke',
              name: `Revoke ${name}, remembered ${formatDate(createdAt)}`,
              kind: 'danger',
              direct: true,
              done: `${name} is no longer remembered: it will ask for a code again.`,
              run: () => mutate(RevokeTrustedDevice, { id }),
            },
          ],
        })),
      }}
      actions={[
        devices.length > 1 && {
          label: 'Revoke all remembered browsers',
          kind: 'danger',
          direct: true,
          done: 'No browser is remembered any more: each will ask for a code again.',
          run: () => mutate(RevokeAllTrustedDevices, {}),
        },
      ]}
    />
  );
}
