import { Hono } from "hono";
import { Layout, render } from "../layout";
import { PAGE_CSP, securePages } from "../security";

/**
 * `/docs`: Swagger UI over /openapi.json, with no network. Its files (swagger-ui-dist, 1.9 MB) are
 * Workers static assets under /docs/assets/ (copied by scripts/docs-assets.mjs), so they are not
 * bundled into the worker; the start-up script is a file too, so no script runs inline.
 */
export const docs = new Hono();

// Swagger UI's React components set style attributes, so only styles may be inline here; scripts may not.
const DOCS_CSP = PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
docs.use("/docs", securePages(DOCS_CSP));

export const DOCS_INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null, tryItOutEnabled: false, displayRequestDuration: true });
});
`;

docs.get("/docs", async (c) => {
  const page = (
    <Layout title="API reference" section="docs">
      <h1>API reference</h1>
      <p>
        Every endpoint of this bridge, from <a href="/openapi.json">/openapi.json</a>. Authorize with an API key to try requests here.
      </p>
      <noscript>
        <p class="alert">The interactive reference needs JavaScript. The raw document is at /openapi.json.</p>
      </noscript>
      <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
      <div id="swagger-ui"></div>
      <script src="/docs/assets/swagger-ui-bundle.js"></script>
      <script src="/docs/init.js"></script>
    </Layout>
  );
  return c.html(await render(page), 200);
});

docs.get("/docs/init.js", (c) => c.body(DOCS_INIT_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }));
