// A security key in the terminal, for trying the WebAuthn operations without a
// browser: it plays the browser and the authenticator (nid-webauthn-emulator, a
// devDependency), and keeps its credentials in a file, so a key registered once
// answers later. Usage: npm run -s webauthn -- --help
import { readFileSync, writeFileSync } from 'node:fs';
import {
  AuthenticatorEmulator,
  deserializeCredential,
  PasskeysCredentialsMemoryRepository,
  serializeCredential,
  WebAuthnEmulator,
} from 'nid-webauthn-emulator';

const USAGE = `usage: npm run -s webauthn -- <register | answer> <key file> '<options JSON>' [--origin <origin>] [--transports <list>]

Plays a browser at --origin (default http://localhost:5173, an origin the embedded
default accepts) with a passkey whose credentials live in <key file> (created on the
first registration; one file is one authenticator). Prints the JSON a browser's
@simplewebauthn/browser would hand to the page, and nothing else:

  register  options of startWebAuthnRegistration -> a RegistrationResponseJSON
            (for confirmWebAuthnRegistration's response)
  answer    options of startWebAuthnStepUp, or a login challenge's webAuthnOptions
            -> an AuthenticationResponseJSON (for a webAuthn argument)

  --transports  what the key reports at registration (default internal,hybrid)

  REGISTRATION=$(npm run -s webauthn -- register dana.key "$OPTIONS")
`;

function fail(message) {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArguments(argv) {
  const positional = [];
  const flags = { origin: 'http://localhost:5173', transports: 'internal,hybrid' };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--help' || argument === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (argument.startsWith('--')) {
      const name = argument.slice(2);
      if (!(name in flags) || index + 1 >= argv.length) fail(`unknown option or missing value: ${argument}`);
      flags[name] = argv[(index += 1)];
    } else positional.push(argument);
  }
  const [command, keyFile, optionsJson] = positional;
  if (!['register', 'answer'].includes(command) || !keyFile || !optionsJson || positional.length > 3)
    fail('expected a command, a key file and the options JSON');
  let options;
  try {
    options = JSON.parse(optionsJson);
  } catch (error) {
    fail(`the options are not JSON: ${error.message}`);
  }
  if (typeof options !== 'object' || options === null || typeof options.challenge !== 'string')
    fail('the options have no challenge: give the "options" (or "webAuthnOptions") object itself');
  return { command, keyFile, options, ...flags };
}

/** The key file: the serialized credentials of one authenticator (none yet when it does not exist). */
function load(keyFile) {
  const repository = new PasskeysCredentialsMemoryRepository();
  let text;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    return repository;
  }
  // An empty file (as mktemp makes it) is an authenticator without credentials.
  for (const credential of text.trim() ? JSON.parse(text) : [])
    repository.saveCredential(deserializeCredential(JSON.stringify(credential)));
  return repository;
}

function save(keyFile, repository) {
  const credentials = repository.loadCredentials().map((credential) => JSON.parse(serializeCredential(credential)));
  writeFileSync(keyFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

const { command, keyFile, options, origin, transports } = parseArguments(process.argv.slice(2));
const repository = load(keyFile);
if (command === 'answer' && repository.loadCredentials().length === 0)
  fail(`${keyFile} holds no credential: register one first`);
const emulator = new WebAuthnEmulator(
  new AuthenticatorEmulator({
    algorithmIdentifiers: ['ES256'],
    transports: transports.split(',').filter(Boolean),
    signCounterIncrement: 1,
    verifications: { userPresent: true, userVerified: true },
    credentialsRepository: repository,
  }),
);
try {
  // relatedOrigins [origin]: the emulator signs for the options' RP id from any origin, as a
  // look-alike page would ask; the service, not this "browser", refuses a foreign origin.
  const response =
    command === 'register'
      ? emulator.createJSON(origin, options, [origin])
      : emulator.getJSON(origin, options, [origin]);
  save(keyFile, repository);
  process.stdout.write(`${JSON.stringify(response)}\n`);
} catch (error) {
  // What a browser's navigator.credentials would throw (e.g. InvalidStateError: already registered).
  process.stderr.write(`the authenticator refused: ${error.name}: ${error.message}\n`);
  process.exit(1);
}
