/**
 * Uppy's Dashboard uploading to s3-service through its Companion S3 adapter: the whole
 * integration is `companionEndpoint`. Copy this file, not the test hooks at its end.
 *
 * The endpoint is `<api>/uppy/<capability>`, a short-lived URL that lets its holder upload into
 * one workspace and nothing else. Your app's backend mints it for a signed-in user, with the
 * caller's own token, and hands it to the page:
 *
 *   const { endpoint } = await trpc.uppy.capability.mutate({ workspaceId, expiresInSeconds: 3600 });
 *   // or REST: POST /s3/uppy-capability {"workspaceId": "..."}; or in process: mintUppyCapability(...)
 *
 * Here the page reads it from its query (`?endpoint=`) so that anyone can try it.
 */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

const MiB = 2 ** 20;
const query = new URLSearchParams(location.search);
const endpoint = query.get('endpoint');
const status = document.getElementById('status')!;
const overFiveMiB = (file: { size: number | null }) => (file.size ?? 0) > 5 * MiB;

const uppy = new Uppy();
uppy.use(Dashboard, { inline: true, target: '#uploader', width: '100%', proudlyDisplayPoweredByUppy: false });

if (endpoint) {
  uppy.use(AwsS3, {
    companionEndpoint: endpoint,
    // Multipart above 5 MiB (S3's smallest part): larger files get parts that pause, resume and
    // retry one by one, smaller ones one form POST. Uppy's own default moves this to 100 MiB;
    // `?multipart=default` keeps that default, to try the form path with larger files.
    ...(query.get('multipart') === 'default' ? {} : { shouldUseMultipart: overFiveMiB }),
  });
} else {
  status.textContent = 'Open this page with ?endpoint=<the endpoint your backend minted>.';
}

uppy.on('upload-success', (file, response) => {
  status.textContent = `${file?.name} stored as ${response.body?.key}`;
});
uppy.on('upload-error', (file, error) => {
  status.textContent = `${file?.name}: ${error.message}`;
});

// For the tests (apps/uppy-demo/test): the Uppy instance and what it reported.
const events: Array<{ type: 'upload-success' | 'upload-error'; fileId: string; name: string; key?: string; message?: string }> = [];
uppy.on('upload-success', (file, response) => {
  events.push({ type: 'upload-success', fileId: file?.id ?? '', name: file?.name ?? '', key: response.body?.key as string | undefined });
});
uppy.on('upload-error', (file, error) => {
  events.push({ type: 'upload-error', fileId: file?.id ?? '', name: file?.name ?? '', message: error.message });
});
Object.assign(window, { uppy, uploadEvents: events });
