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

// deepLinking off: its links nest inside Swagger UI's operation buttons (an accessibility fault);
// validatorUrl null: no badge fetched from swagger.io; the servers list gets the name it lacks;
// the schemas section is left out (each operation shows its own schemas; its widgets fail contrast).
const DOCS_INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false, validatorUrl: null, displayRequestDuration: true, defaultModelsExpandDepth: -1,
    onComplete: function () { var s = document.getElementById("servers"); if (s) s.setAttribute("aria-label", "Server"); }
  });
});
`;

/** Swagger UI's grey-on-grey badges and links, darkened to readable contrast. */
const DOCS_CSS = `.swagger-ui .info .title small{background:#4a4a55}.swagger-ui .info .title small.version-stamp{background:#2e6b12}
.swagger-ui .info .title small pre{color:#fff;background:none;border:0;padding:0}
.swagger-ui .btn.authorize{color:#17703a;border-color:#17703a}.swagger-ui .btn.authorize svg{color:#17703a;fill:#17703a}
.swagger-ui .info a,.swagger-ui .info .url{color:#1f4fd1}
.swagger-ui .opblock .opblock-summary-method{color:#111;text-shadow:none}
.swagger-ui pre{border:0}.swagger-ui code{border:0;background:none}
@media (prefers-color-scheme:dark){#swagger-ui{background:#fff;color:#1b1b1f;border-radius:8px;padding:.5rem}}
`;

docs.get("/docs", async (c) => {
  const page = (
    <Layout title="API reference" section="docs">
      <h1>API reference</h1>
      <p>
        Every endpoint of this bridge, from <a href="/openapi.json">/openapi.json</a>. Authorize with an API key to try
        requests here.
      </p>
      <noscript>
        <p class="alert">The interactive reference needs JavaScript. The raw document is at /openapi.json.</p>
      </noscript>
      <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
      <link rel="stylesheet" href="/docs/overrides.css" />
      <div id="swagger-ui"></div>
      <script src="/docs/assets/swagger-ui-bundle.js"></script>
      <script src="/docs/init.js"></script>
    </Layout>
  );
  return c.html(await render(page), 200);
});

const cached = { "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" };
docs.get("/docs/init.js", (c) =>
  c.body(DOCS_INIT_JS, 200, { ...cached, "content-type": "text/javascript; charset=utf-8" }),
);
docs.get("/docs/overrides.css", (c) => c.body(DOCS_CSS, 200, { ...cached, "content-type": "text/css; charset=utf-8" }));
