/** What a `SELECT count(*) AS n …` statement answers (an aggregate always answers one row). */
export async function countOf(statement: D1PreparedStatement): Promise<number> {
  const row = await statement.first<{ n: number }>();
  return row?.n ?? 0;
}

/** A row the statement before it has just written: its absence would be a bug, not a state to handle. */
export function writtenRow<T>(row: T | null, what: string): T {
  if (row === null) throw new Error(`${what} was written but could not be read back`);
  return row;
}
