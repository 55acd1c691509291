// Writes dist/contract.d.ts: the declarations of the service's contract (the server's router type
// and error codes) bundled from the server's build, so the published package type-checks without
// the private server package. @trpc/* stays an import (the client depends on it); anything else
// outside the server that the contract reached would stay an import too, and check-dist.mjs
// refuses it.
import { dts } from 'rollup-plugin-dts';

export default {
  input: 'src/contract.ts',
  output: { file: 'dist/contract.d.ts', format: 'es' },
  // Server modules the contract does not use import Node's types; they are left out, unread.
  external: (id) => id.startsWith('node:'),
  plugins: [
    dts({
      tsconfig: 'tsconfig.build.json',
      // The server's built declarations, not its source (the @s3-service/source condition).
      compilerOptions: { customConditions: [] },
      includeExternal: ['@s3-service/server'],
    }),
  ],
};
