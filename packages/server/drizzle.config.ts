import { defineConfig } from 'drizzle-kit';

/** `pnpm --filter @s3-service/server exec drizzle-kit generate` writes the next migration from schema.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/catalog/schema.ts',
  out: './drizzle',
});
