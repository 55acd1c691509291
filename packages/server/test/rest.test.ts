import { describeRestApi } from './rest-api.js';
import { startLocalServer } from './support/server.js';

describeRestApi('the local-disk store', () => startLocalServer());
