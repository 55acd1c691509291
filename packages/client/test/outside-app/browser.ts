// What a browser app bundles: the packed-package test bundles this for the browser platform and
// checks that nothing of Node or of the server comes along.
import { createS3ServiceClient } from '@s3-service/client';

const client = createS3ServiceClient({ url: location.origin });

export async function uploadPicked(file: File): Promise<string> {
  const { key } = await client.upload(file, { workspaceId: 'ws-1' });
  return key;
}
