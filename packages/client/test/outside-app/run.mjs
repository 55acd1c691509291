// Runs the installed package against the live server at S3_SERVICE_URL: an upload of two parts,
// its download, its deletion, and two typed errors. Prints one JSON line for the test to check.
import { createHash } from 'node:crypto';
import { createS3ServiceClient, S3ServiceError, UploadError } from '@s3-service/client';

const workspaceId = 'outside-app';
const client = createS3ServiceClient({ url: process.env.S3_SERVICE_URL });
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const describe = (error) => ({
  name: error.name,
  serviceError: error instanceof S3ServiceError,
  uploadError: error instanceof UploadError,
  code: error.code,
  status: error.status,
});

const bytes = new Uint8Array(6 * 1024 * 1024 + 123);
for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 31 + (index >> 12)) & 255;

const uploaded = await client.upload(new Blob([bytes], { type: 'application/pdf' }), { workspaceId });
const response = await client.download({ key: uploaded.key, workspaceId });
const downloaded = new Uint8Array(await response.arrayBuffer());
const deleted = await client.delete({ key: uploaded.key, workspaceId });
const afterDelete = await client.download({ key: uploaded.key, workspaceId }).then(() => null, describe);
const refusedType = await client.upload(new Blob(['<html></html>']), { workspaceId, fileType: 'text/html' }).then(() => null, describe);

console.log(
  JSON.stringify({
    key: uploaded.key,
    size: uploaded.size,
    sent: { sha256: sha256(bytes), size: bytes.length },
    received: { sha256: sha256(downloaded), size: downloaded.length, contentType: response.headers.get('content-type') },
    deleted,
    afterDelete,
    refusedType,
  }),
);
