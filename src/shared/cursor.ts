import { ApiError } from "../errors";

/** Keyset pagination, newest first: a cursor names the last row of a page by (created_at, id). */
export interface CursorPosition {
  createdAt: number;
  id: string;
}

export const encodeCursor = (row: { created_at: number; id: string }) =>
  btoa(`${row.created_at}:${row.id}`).replace(/=+$/, "");

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const [createdAt, id] = atob(cursor).split(/:(.*)/s);
    if (!createdAt || !id || !/^\d+$/.test(createdAt)) throw new Error("not a cursor");
    return { createdAt: Number(createdAt), id };
  } catch {
    throw new ApiError(
      422,
      "validation_error",
      "cursor: not a cursor from this API. Use next_cursor from the previous page.",
      { field: "cursor" },
    );
  }
}

/** Cuts one page from `limit + 1` rows; the extra row only says whether there is a next page. */
export function pageOf<Row extends { created_at: number; id: string }>(
  rows: Row[],
  limit: number,
): { rows: Row[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
}
