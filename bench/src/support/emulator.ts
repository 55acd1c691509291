/** The S3 server of the driver tests (versitygw on 127.0.0.1, or S3_TEST_ENDPOINT), reused as is. */
export { isSkipped, type S3Emulator, startS3Emulator } from '../../../packages/server/test/support/s3-emulator.js';
