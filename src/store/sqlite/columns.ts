// Rows come out of SQLite already in the domain's shape: each column aliased to its
// camelCase field, so no read pays for a conversion.

/** `SELECT` list for a table: `snake_col AS camelField` for each field. */
export function selectList<T>(columns: { [K in keyof T]-?: string }): string {
  return Object.entries(columns as Record<string, string>)
    .map(([field, column]) => (field === column ? column : `${column} AS ${field}`))
    .join(", ");
}
