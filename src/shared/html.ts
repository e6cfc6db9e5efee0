/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The stylesheet of every page, inline: its hash is in the pages' Content-Security-Policy (src/http/security-headers.ts). */
export const PAGE_STYLE = `
body{font-family:system-ui,-apple-system,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.4rem}label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=email]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #bbb;border-radius:6px;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:6px;background:#2457d6;color:#fff;cursor:pointer}
code,pre{background:#f2f2f5;padding:.15rem .35rem;border-radius:4px;word-break:break-all}pre{padding:.8rem;white-space:pre-wrap}
.note{color:#666;font-size:.9rem}.badge{display:inline-block;background:#ffe9a8;padding:.1rem .5rem;border-radius:4px;font-size:.8rem}
`;

/** A small self-contained page (no external assets: it must work with no network). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style></head><body>${body}</body></html>`;
}
