import type { Catalog, QuotaRules } from '../catalog/catalog.js';
import type { UploadRules } from '../config.js';
import type { ObjectStore } from '../storage/store.js';

/** What the asset operations work with: the bytes (store), the records (catalogue) and the rules. */
export interface AssetDependencies {
  store: ObjectStore;
  catalog: Catalog;
  uploads: UploadRules;
  quotas: QuotaRules;
}
