import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

// Typed documents from the service's schema: an operation that no longer matches
// ../schema.graphql fails `npm run build`.
const config = {
  useTypeImports: true,
  enumsAsTypes: true,
  strictScalars: true,
  scalars: { DateTimeISO: 'string', JSON: 'unknown', ID: 'string' },
  skipTypename: false,
  avoidOptionals: false,
};

export default {
  schema: '../schema.graphql',
  ignoreNoDocuments: false,
  errorsOnly: false,
  generates: {
    // The pages' operations, as trusted documents: each carries its hash (`__meta__.documentId`),
    // which the pages send instead of the text (src/api.ts), and persisted-documents.json
    // (hash -> document) is the list the web server forwards; it refuses anything else.
    // __typename is selected in the documents themselves: urql's cache needs it in answers,
    // and the text it would add it to is no longer sent.
    'src/gql/': {
      documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashPropertyName: 'documentId', hashAlgorithm: 'sha256' },
      },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config,
    },
    // The web server's own operations (as the login service and directory sync): sent as text by
    // the server itself, never on a browser's behalf.
    'server/gql/': {
      documents: ['server/**/*.ts', '!server/gql/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config,
    },
  },
} satisfies CodegenConfig;
