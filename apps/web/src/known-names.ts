/** How many names are kept; the oldest go first. */
const LIMIT = 1000;
const STORAGE_KEY = 's3-service:asset-names';

/**
 * File names of the assets this browser uploaded. Keys are `<workspace>/digital_assets/<id>`
 * and the server keeps no name, so the list shows a name only where this browser knows it.
 */
export class KnownNames {
  constructor(private readonly storage: Storage) {}

  nameOf(assetId: string): string | undefined {
    return this.read()[assetId];
  }

  remember(assetId: string, name: string): void {
    const names = this.read();
    delete names[assetId];
    names[assetId] = name;
    const entries = Object.entries(names);
    this.storage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(entries.slice(-LIMIT))));
  }

  forget(assetId: string): void {
    const names = this.read();
    delete names[assetId];
    this.storage.setItem(STORAGE_KEY, JSON.stringify(names));
  }

  private read(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? '{}');
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }
}
