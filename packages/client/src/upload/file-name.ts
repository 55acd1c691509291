/** The last segment of a path or a File's name (`C:\\x\\report.pdf` and `/x/report.pdf` alike); undefined when there is none. */
export function baseName(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  const name = path.split(/[/\\]/).pop();
  return name ? name : undefined;
}
